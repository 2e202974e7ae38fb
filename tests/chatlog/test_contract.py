"""What every ChatLog backend promises, checked the way a caller would notice it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from messages.chatlog.base import ChatLog, ChatLogUnavailable, StoredMessage
from messages.chatlog.mongo import MongoChatLog
from messages.chatlog.sqlite import SQLiteChatLog
from tests.chatlog.append_worker import open_log

PROJECT_DIR = Path(__file__).resolve().parents[2]

ROOM, OTHER_ROOM = 1, 2
ALICE, BOB = 10, 20


async def post(log: ChatLog, client_id: str, *, room: int = ROOM, author: int = ALICE, body: str | None = None):
    return await log.append(
        room_id=room,
        author_id=author,
        author_username=f"user{author}",
        client_id=client_id,
        body=body if body is not None else f"body of {client_id}",
    )


async def fill(log: ChatLog, n: int, *, room: int = ROOM) -> list[StoredMessage]:
    return [(await post(log, f"{room}-{i}", room=room)).message for i in range(n)]


def seqs(messages: list[StoredMessage]) -> list[int]:
    return [m.seq for m in messages]


async def everything(log: ChatLog, room: int = ROOM) -> list[StoredMessage]:
    return await log.page_after(room_id=room, after_seq=0, limit=1000)


# --- sequence numbers --------------------------------------------------------------


async def test_empty_room(log: ChatLog) -> None:
    assert await log.last_seq(room_id=ROOM) == 0
    assert await everything(log) == []
    assert await log.page_before(room_id=ROOM, before_seq=None, limit=10) == []
    assert await log.get(room_id=ROOM, seq=1) is None


async def test_seqs_count_from_one_without_gaps_per_room(log: ChatLog) -> None:
    results = []
    for i in range(4):
        results.append(await post(log, f"a{i}", room=ROOM))
        results.append(await post(log, f"b{i}", room=OTHER_ROOM))
    results.append(await post(log, "a4", room=ROOM))

    assert all(r.created for r in results)
    assert seqs(await everything(log, ROOM)) == [1, 2, 3, 4, 5]
    assert seqs(await everything(log, OTHER_ROOM)) == [1, 2, 3, 4]
    assert await log.last_seq(room_id=ROOM) == 5
    assert await log.last_seq(room_id=OTHER_ROOM) == 4


async def test_append_returns_what_is_stored(log: ChatLog) -> None:
    result = await log.append(room_id=ROOM, author_id=ALICE, author_username="alice", client_id="c1", body="hi")

    message = result.message
    assert result.created
    assert (message.room_id, message.seq, message.author_id) == (ROOM, 1, ALICE)
    assert (message.author_username, message.client_id, message.body) == ("alice", "c1", "hi")
    assert isinstance(message.id, str) and message.id
    assert message.deleted_at is None and not message.is_deleted
    assert await log.get(room_id=ROOM, seq=1) == message


async def test_ids_are_unique_strings(log: ChatLog) -> None:
    messages = await fill(log, 5) + await fill(log, 3, room=OTHER_ROOM)

    assert all(type(m.id) is str for m in messages)
    assert len({m.id for m in messages}) == 8


# --- idempotent resend -------------------------------------------------------------


async def test_resend_returns_the_original_and_uses_no_seq(log: ChatLog) -> None:
    first = await post(log, "c1", body="original")
    await post(log, "c2")

    resent = await post(log, "c1", body="changed on resend")

    assert not resent.created
    assert resent.message == first.message
    assert resent.message.body == "original"
    assert await log.last_seq(room_id=ROOM) == 2
    assert (await post(log, "c3")).message.seq == 3
    assert seqs(await everything(log)) == [1, 2, 3]


async def test_client_id_is_scoped_to_author_and_room(log: ChatLog) -> None:
    first = await post(log, "same", author=ALICE)

    by_bob = await post(log, "same", author=BOB)
    elsewhere = await post(log, "same", room=OTHER_ROOM)

    assert by_bob.created and by_bob.message.seq == 2
    assert elsewhere.created and elsewhere.message.seq == 1
    assert len({first.message.id, by_bob.message.id, elsewhere.message.id}) == 3


async def test_client_ids_are_compared_exactly(log: ChatLog) -> None:
    client_ids = ["c1", "C1", "c1 ", " c1", "ç1", "c\u03271", "🐙", "🐬"]

    results = [await post(log, client_id) for client_id in client_ids]

    assert all(r.created for r in results)
    assert seqs(await everything(log)) == list(range(1, len(client_ids) + 1))
    for client_id, result in zip(client_ids, results, strict=True):
        assert await log.find_by_client_id(room_id=ROOM, author_id=ALICE, client_id=client_id) == result.message


async def test_resend_of_a_deleted_message_returns_the_tombstone(log: ChatLog) -> None:
    await post(log, "c1")
    await log.delete(room_id=ROOM, seq=1)

    resent = await post(log, "c1")

    assert not resent.created
    assert resent.message.is_deleted and resent.message.body is None
    assert await log.last_seq(room_id=ROOM) == 1


# --- concurrency -------------------------------------------------------------------


async def test_concurrent_appends_get_unique_gap_free_seqs(log: ChatLog) -> None:
    results = await asyncio.gather(*(post(log, f"c{i}") for i in range(30)))

    assert all(r.created for r in results)
    assert sorted(r.message.seq for r in results) == list(range(1, 31))
    stored = await everything(log)
    assert seqs(stored) == list(range(1, 31))
    assert {m.client_id for m in stored} == {f"c{i}" for i in range(30)}


async def test_concurrent_resends_store_one_copy(log: ChatLog) -> None:
    tasks = [post(log, "dup", body=f"try {i}") for i in range(8)]
    tasks += [post(log, f"other{i}") for i in range(8)]

    results = await asyncio.gather(*tasks)

    dup_results = results[:8]
    assert sum(r.created for r in dup_results) == 1
    assert len({r.message for r in dup_results}) == 1
    stored = await everything(log)
    assert seqs(stored) == list(range(1, 10))
    assert [m.client_id for m in stored].count("dup") == 1


async def test_two_instances_on_one_store_act_like_two_processes(make_log: Callable[[], ChatLog]) -> None:
    first, second = make_log(), make_log()
    tasks = []
    for i in range(12):
        tasks.append(post(first, f"a{i}"))
        tasks.append(post(second, f"b{i}"))
    # The same message sent through both processes (a client reconnecting elsewhere).
    tasks += [post(first, f"shared{i}") for i in range(4)] + [post(second, f"shared{i}") for i in range(4)]

    results = await asyncio.gather(*tasks)

    assert sum(r.created for r in results) == 28
    stored = await everything(first)
    assert seqs(stored) == list(range(1, 29))
    assert len({m.client_id for m in stored}) == 28
    assert await second.last_seq(room_id=ROOM) == 28


async def test_one_client_id_sent_through_two_instances_at_once(make_log: Callable[[], ChatLog]) -> None:
    first, second = make_log(), make_log()
    await first.ping(), await second.ping()

    for i in range(6):
        a, b = await asyncio.gather(post(first, f"both{i}"), post(second, f"both{i}"))
        assert sorted([a.created, b.created]) == [False, True]
        assert a.message == b.message

    assert seqs(await everything(first)) == list(range(1, 7))


async def test_two_processes_append_to_one_room(store: dict[str, Any]) -> None:
    # SQLite is fast enough for the volume that reliably exposes a lost write lock.
    per_process = 100 if store["kind"] == "sqlite" else 15
    start_at = time.time() + 1.5  # both workers connect first, then start together
    jobs = [
        {
            "store": store,
            "room_id": ROOM,
            "author_id": ALICE,
            "name": name,
            "start_at": start_at,
            "client_ids": [f"{name}{i}" for i in range(per_process)] + [f"shared{i}" for i in range(5)],
        }
        for name in ("p1-", "p2-")
    ]
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.chatlog.append_worker",
            json.dumps(job),
            cwd=PROJECT_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for job in jobs
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(w.communicate() for w in workers)), timeout=60)

    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr.decode()
    rows = [json.loads(line) for stdout, _ in outputs for line in stdout.decode().splitlines()]
    total = 2 * per_process + 5
    assert len(rows) == total + 5
    created = [seq for _, seq, was_created in rows if was_created]
    assert sorted(created) == list(range(1, total + 1))
    log = open_log(store)
    try:
        stored = await everything(log)
    finally:
        await log.close()
    assert seqs(stored) == list(range(1, total + 1))
    assert sorted(m.client_id for m in stored) == sorted({client_id for client_id, _, _ in rows})


async def test_an_instance_continues_after_another_one_wrote(make_log: Callable[[], ChatLog]) -> None:
    first, second = make_log(), make_log()
    await fill(first, 3)

    assert (await post(second, "from second")).message.seq == 4
    # `first` last saw seq 3 and must not reuse 4 or skip ahead.
    assert (await post(first, "from first")).message.seq == 5
    assert seqs(await everything(second)) == [1, 2, 3, 4, 5]


# --- reading pages -----------------------------------------------------------------


async def test_page_after(log: ChatLog) -> None:
    await fill(log, 7)
    await fill(log, 2, room=OTHER_ROOM)

    assert seqs(await log.page_after(room_id=ROOM, after_seq=0, limit=3)) == [1, 2, 3]
    assert seqs(await log.page_after(room_id=ROOM, after_seq=3, limit=10)) == [4, 5, 6, 7]
    assert seqs(await log.page_after(room_id=ROOM, after_seq=5, limit=1)) == [6]
    assert await log.page_after(room_id=ROOM, after_seq=7, limit=10) == []
    assert await log.page_after(room_id=ROOM, after_seq=0, limit=0) == []
    assert seqs(await log.page_after(room_id=OTHER_ROOM, after_seq=0, limit=10)) == [1, 2]


async def test_page_before(log: ChatLog) -> None:
    await fill(log, 7)
    await fill(log, 2, room=OTHER_ROOM)

    assert seqs(await log.page_before(room_id=ROOM, before_seq=None, limit=3)) == [5, 6, 7]
    assert seqs(await log.page_before(room_id=ROOM, before_seq=None, limit=100)) == list(range(1, 8))
    assert seqs(await log.page_before(room_id=ROOM, before_seq=5, limit=2)) == [3, 4]
    assert seqs(await log.page_before(room_id=ROOM, before_seq=4, limit=10)) == [1, 2, 3]
    assert seqs(await log.page_before(room_id=ROOM, before_seq=50, limit=2)) == [6, 7]
    assert await log.page_before(room_id=ROOM, before_seq=1, limit=10) == []
    assert await log.page_before(room_id=ROOM, before_seq=None, limit=0) == []
    assert seqs(await log.page_before(room_id=OTHER_ROOM, before_seq=None, limit=10)) == [1, 2]


async def test_pages_return_full_messages(log: ChatLog) -> None:
    appended = await fill(log, 3)

    assert await log.page_after(room_id=ROOM, after_seq=0, limit=10) == appended
    assert await log.page_before(room_id=ROOM, before_seq=None, limit=10) == appended


async def test_find_by_client_id(log: ChatLog) -> None:
    original = (await post(log, "c1")).message
    await post(log, "c2")

    assert await log.find_by_client_id(room_id=ROOM, author_id=ALICE, client_id="c1") == original
    assert await log.find_by_client_id(room_id=ROOM, author_id=BOB, client_id="c1") is None
    assert await log.find_by_client_id(room_id=OTHER_ROOM, author_id=ALICE, client_id="c1") is None
    assert await log.find_by_client_id(room_id=ROOM, author_id=ALICE, client_id="nope") is None


async def test_get(log: ChatLog) -> None:
    appended = await fill(log, 3)

    assert await log.get(room_id=ROOM, seq=2) == appended[1]
    assert await log.get(room_id=ROOM, seq=4) is None
    assert await log.get(room_id=OTHER_ROOM, seq=2) is None


# --- moderation search -------------------------------------------------------------


async def test_search_is_newest_first_by_author_and_text(log: ChatLog) -> None:
    await post(log, "a", body="Hello World")
    await post(log, "b", author=BOB, body="hello again")
    await post(log, "c", body="unrelated")
    await post(log, "d", body="HELLO at last")
    await post(log, "o", room=OTHER_ROOM, body="hello elsewhere")

    assert seqs(await log.search(room_id=ROOM, text="hello", limit=10)) == [4, 2, 1]
    assert seqs(await log.search(room_id=ROOM, author_username=f"USER{ALICE}", limit=10)) == [4, 3, 1]
    assert seqs(await log.search(room_id=ROOM, author_username=f"user{ALICE}", text="hello", limit=10)) == [4, 1]
    assert seqs(await log.search(room_id=ROOM, text="hello", before_seq=4, limit=1)) == [2]
    assert await log.search(room_id=ROOM, author_username="user", limit=10) == []  # exact, not a prefix


async def test_search_text_is_literal_and_skips_tombstones(log: ChatLog) -> None:
    await post(log, "a", body="costs $5 (really?) [x].*")
    await post(log, "b", body="costs 5")
    await log.delete(room_id=ROOM, seq=1)
    await post(log, "c", body="costs $5 (really?) [x].* again")

    assert seqs(await log.search(room_id=ROOM, text="$5 (really?) [x].*", limit=10)) == [3]
    assert seqs(await log.search(room_id=ROOM, limit=10)) == [3, 2, 1]  # no criteria: every message


async def test_search_folds_case_only(log: ChatLog) -> None:
    # Accents and emoji stay distinct. (Only ASCII letters change case here: SQLite folds no others.)
    for i, (author, body) in enumerate([("Zoë", "Café 🐙"), ("zoe", "cafe 🐬"), ("zoë🐙", "CAFé 🐙")]):
        await log.append(room_id=ROOM, author_id=i, author_username=author, client_id="c", body=body)

    assert seqs(await log.search(room_id=ROOM, author_username="zoë", limit=10)) == [1]
    assert seqs(await log.search(room_id=ROOM, author_username="ZOE", limit=10)) == [2]
    assert seqs(await log.search(room_id=ROOM, text="café 🐙", limit=10)) == [3, 1]
    assert seqs(await log.search(room_id=ROOM, text="cafe", limit=10)) == [2]


# --- deleting ----------------------------------------------------------------------


async def test_delete_leaves_a_tombstone(log: ChatLog) -> None:
    appended = await fill(log, 3)

    tombstone = await log.delete(room_id=ROOM, seq=2)

    assert tombstone is not None and tombstone.is_deleted
    assert tombstone.body is None
    assert tombstone.deleted_at.utcoffset() == timedelta(0)
    assert tombstone.deleted_at >= tombstone.created_at
    original = appended[1]
    assert (tombstone.id, tombstone.seq, tombstone.client_id, tombstone.author_id, tombstone.created_at) == (
        original.id,
        original.seq,
        original.client_id,
        original.author_id,
        original.created_at,
    )
    assert await log.get(room_id=ROOM, seq=2) == tombstone
    assert await everything(log) == [appended[0], tombstone, appended[2]]
    assert seqs(await log.page_before(room_id=ROOM, before_seq=None, limit=10)) == [1, 2, 3]
    assert await log.last_seq(room_id=ROOM) == 3
    assert (await post(log, "after delete")).message.seq == 4


async def test_delete_twice_returns_the_same_tombstone(log: ChatLog) -> None:
    await fill(log, 1)

    first = await log.delete(room_id=ROOM, seq=1)
    await asyncio.sleep(0.01)
    second = await log.delete(room_id=ROOM, seq=1)

    assert first is not None and first == second


async def test_delete_of_a_missing_message_returns_none(log: ChatLog) -> None:
    await fill(log, 1)

    assert await log.delete(room_id=ROOM, seq=2) is None
    assert await log.delete(room_id=OTHER_ROOM, seq=1) is None
    assert await log.last_seq(room_id=ROOM) == 1


async def test_deleting_the_last_message_keeps_its_seq_taken(log: ChatLog) -> None:
    await fill(log, 2)
    await log.delete(room_id=ROOM, seq=2)

    assert (await post(log, "next")).message.seq == 3


# --- values ------------------------------------------------------------------------

UNUSUAL_BODIES = [
    "",
    "  leading and trailing spaces  ",
    "line one\nline two\r\n\ttabbed",
    "héllo wörld, ñandú, Ærø",
    "emoji 🎉🔥 family 👩‍👩‍👧‍👦 flag 🇫🇷 skin 👍🏽",
    "中文 日本語 한국어",
    "עברית العربية",
    "e\u0301 (combining accent) vs \u00e9",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 astral 𝟘𝟙",
    'quotes \' " ` and backslash \\ and $dollar and {"json": 1}',
    "long " + "ü🎉" * 2000,
]


async def test_bodies_round_trip_exactly(log: ChatLog) -> None:
    for i, body in enumerate(UNUSUAL_BODIES):
        await log.append(room_id=ROOM, author_id=ALICE, author_username="zoë 🐙", client_id=f"ü-{i}-🎉", body=body)

    stored = await everything(log)

    assert [m.body for m in stored] == UNUSUAL_BODIES
    assert {m.author_username for m in stored} == {"zoë 🐙"}
    found = await log.find_by_client_id(room_id=ROOM, author_id=ALICE, client_id="ü-4-🎉")
    assert found is not None and found.body == UNUSUAL_BODIES[4]


async def test_timestamps_are_aware_utc(log: ChatLog) -> None:
    before = datetime.now(UTC)
    appended = (await post(log, "c1")).message
    stored = await log.get(room_id=ROOM, seq=1)

    for created_at in (appended.created_at, stored.created_at):
        assert created_at.tzinfo is not None
        assert created_at.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= created_at <= datetime.now(UTC)


# --- health ------------------------------------------------------------------------


async def test_ping(log: ChatLog) -> None:
    await log.ping()


async def test_survives_reopening(make_log: Callable[[], ChatLog]) -> None:
    first = make_log()
    appended = await fill(first, 2)
    await first.close()

    second = make_log()

    assert await everything(second) == appended
    assert (await post(second, "later")).message.seq == 3


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("operation", ["append", "ping"])
async def test_unreachable_mongo_is_unavailable_quickly(operation: str) -> None:
    # Default timeouts on purpose: a down store must fail fast as configured.
    log = MongoChatLog(url=f"mongodb://127.0.0.1:{_closed_port()}/?directConnection=true", db_name="unreachable")
    calls = {"append": lambda: post(log, "c1"), "ping": log.ping}
    started = time.monotonic()
    try:
        with pytest.raises(ChatLogUnavailable):
            await calls[operation]()
    finally:
        await log.close()
    assert time.monotonic() - started < 6


async def test_unopenable_sqlite_file_is_unavailable(tmp_path) -> None:
    (tmp_path / "a-directory").mkdir()
    log = SQLiteChatLog(path=str(tmp_path / "a-directory"))
    try:
        with pytest.raises(ChatLogUnavailable):
            await log.ping()
        with pytest.raises(ChatLogUnavailable):
            await post(log, "c1")
    finally:
        await log.close()


async def test_sqlite_file_under_a_regular_file_is_unavailable(tmp_path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    log = SQLiteChatLog(path=str(tmp_path / "not-a-dir" / "chat.sqlite3"))
    try:
        with pytest.raises(ChatLogUnavailable):
            await log.ping()
    finally:
        await log.close()


async def test_sqlite_in_memory_works(tmp_path) -> None:
    log = SQLiteChatLog(path=":memory:")
    try:
        assert (await post(log, "c1")).message.seq == 1
        assert seqs(await everything(log)) == [1]
    finally:
        await log.close()


def _sqlite_indexes(path: Path) -> set[tuple[str, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        names = [row[1] for row in conn.execute("PRAGMA index_list(chat_messages)")]
        return {tuple(row[2] for row in conn.execute(f"PRAGMA index_info('{name}')")) for name in names}


async def test_sqlite_indexes_only_what_lookups_use(tmp_path) -> None:
    # Every index is a B-tree each append writes (and fsyncs); the random message id is
    # looked up by nothing, so it has none.
    log = SQLiteChatLog(path=str(tmp_path / "chat.sqlite3"))
    try:
        await post(log, "c1")
    finally:
        await log.close()
    assert _sqlite_indexes(tmp_path / "chat.sqlite3") == {("room_id", "seq"), ("room_id", "author_id", "client_id")}


async def test_sqlite_file_of_the_earlier_schema_keeps_working(tmp_path) -> None:
    path = tmp_path / "chat.sqlite3"
    # A file made before the id lost its index.
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "CREATE TABLE chat_messages (id TEXT PRIMARY KEY, room_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
            " author_id INTEGER NOT NULL, author_username TEXT NOT NULL, client_id TEXT NOT NULL, body TEXT,"
            " created_at TEXT NOT NULL, deleted_at TEXT, UNIQUE (room_id, seq), UNIQUE (room_id, author_id, client_id))"
        )
        conn.execute(
            "INSERT INTO chat_messages VALUES ('5f0c9e2a7b3d4e6f8a1b2c3d4e5f6a7b', 1, 1, 10, 'user10', 'old',"
            " 'from before', '2026-12-01T10:00:00+00:00', NULL)"
        )
    log = SQLiteChatLog(path=str(path))
    try:
        assert (await post(log, "new")).message.seq == 2
        assert [(m.seq, m.body) for m in await everything(log)] == [(1, "from before"), (2, "body of new")]
    finally:
        await log.close()
    assert ("id",) in _sqlite_indexes(path)
