"""What only the MariaDB chat log has to prove: one transaction per batch, and outages."""

from __future__ import annotations

import asyncio
import socket
import time
from contextlib import closing
from typing import Any

import MySQLdb
import pytest

from messages.chatlog import mysql as mysql_backend
from messages.chatlog import mysql_connections
from messages.chatlog.base import ChatLog, ChatLogUnavailable
from messages.chatlog.mysql import MySQLChatLog
from tests.chatlog.mysql_databases import MYSQL_URL, NO_MYSQL, admin_connection

pytestmark = pytest.mark.skipif(not MYSQL_URL, reason=NO_MYSQL)


@pytest.fixture
def backend() -> str:
    return "mysql"


async def post(log: ChatLog, client_id: str, *, room: int = 1):
    return await log.append(room_id=room, author_id=10, author_username="user10", client_id=client_id, body="hi")


def kill_connections(store: dict[str, Any]) -> int:
    """Close the server side of every connection to the store's database, as a restart would."""
    database = store["url"].rsplit("/", 1)[1]
    with closing(admin_connection()) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s", (database,))
        ids = [row[0] for row in cursor.fetchall()]
        for connection_id in ids:
            cursor.execute(f"KILL CONNECTION {int(connection_id)}")
    return len(ids)


async def test_concurrent_appends_share_transactions(log: ChatLog, monkeypatch: pytest.MonkeyPatch) -> None:
    await log.ping()
    commits = []
    commit = MySQLdb.connections.Connection.commit

    def counted_commit(conn: MySQLdb.connections.Connection) -> None:
        commits.append(conn)
        commit(conn)

    monkeypatch.setattr(MySQLdb.connections.Connection, "commit", counted_commit)

    results = await asyncio.gather(*(post(log, f"c{i}", room=1 + i % 4) for i in range(40)))

    assert sorted(r.message.seq for r in results) == sorted(list(range(1, 11)) * 4)
    assert len(commits) <= 2  # one per append without group commit


async def test_a_batch_that_times_out_fails_every_append_and_stores_none(
    store: dict[str, Any], make_log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mysql_backend, "_LOCK_WAIT_TIMEOUT_S", 1)
    log = make_log()
    await post(log, "before", room=1)
    other_process = admin_connection()
    try:
        with other_process.cursor() as cursor:
            cursor.execute(f"USE `{store['url'].rsplit('/', 1)[1]}`")
            cursor.execute("START TRANSACTION")
            cursor.execute("SELECT last_seq FROM chatlog_room_seqs WHERE room_id = 1 FOR UPDATE")
        results = await asyncio.gather(*(post(log, f"c{i}", room=1 + i % 2) for i in range(6)), return_exceptions=True)
    finally:
        other_process.rollback()
        other_process.close()

    assert all(isinstance(result, ChatLogUnavailable) for result in results)
    assert [m.client_id for m in await log.page_after(room_id=1, after_seq=0, limit=10)] == ["before"]
    assert await log.last_seq(room_id=2) == 0
    assert [(await post(log, "after", room=room)).message.seq for room in (1, 2)] == [2, 1]


async def test_works_again_after_the_server_dropped_its_connections(store: dict[str, Any], log: ChatLog) -> None:
    await post(log, "before")
    assert await asyncio.to_thread(kill_connections, store) >= 1

    # The call that finds its connection gone fails (it was idle too briefly to be checked) ...
    with pytest.raises(ChatLogUnavailable):
        await post(log, "lost")
    # ... and the next one connects afresh.

    assert (await post(log, "after")).message.seq == 2
    assert [m.client_id for m in await log.page_after(room_id=1, after_seq=0, limit=10)] == ["before", "after"]


async def test_a_connection_dropped_while_idle_is_replaced_unnoticed(
    store: dict[str, Any], make_log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mysql_connections, "_CHECK_AFTER_IDLE_S", 0)
    log = make_log()
    await post(log, "before")
    await asyncio.to_thread(kill_connections, store)

    assert (await post(log, "after")).message.seq == 2


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("operation", ["append", "ping", "page_after"])
async def test_unreachable_server_is_unavailable_quickly(operation: str) -> None:
    log = MySQLChatLog(url=f"mysql://nobody:pw@127.0.0.1:{_closed_port()}/chat")
    calls = {
        "append": lambda: post(log, "c1"),
        "ping": log.ping,
        "page_after": lambda: log.page_after(room_id=1, after_seq=0, limit=10),
    }
    started = time.monotonic()
    try:
        with pytest.raises(ChatLogUnavailable):
            await calls[operation]()
    finally:
        await log.close()
    assert time.monotonic() - started < 5
