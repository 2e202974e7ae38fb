"""Group commit as callers notice it, on the backends that batch appends (SQLite, MariaDB)."""

from __future__ import annotations

import asyncio

import pytest

from messages.chatlog.base import ChatLog
from tests.chatlog.mysql_databases import MYSQL


@pytest.fixture(params=["sqlite", MYSQL])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


async def post(log: ChatLog, client_id: str, *, room: int = 1, author: int = 10, body: str = "hi"):
    return await log.append(
        room_id=room, author_id=author, author_username=f"user{author}", client_id=client_id, body=body
    )


async def test_one_batch_keeps_each_rooms_seqs_in_call_order(log: ChatLog) -> None:
    await log.ping()
    calls = [(f"c{i}", 1 + i % 3) for i in range(30)]

    results = await asyncio.gather(*(post(log, client_id, room=room) for client_id, room in calls))

    for room in (1, 2, 3):
        in_call_order = [r.message.seq for r, (_, r_room) in zip(results, calls, strict=True) if r_room == room]
        assert in_call_order == list(range(1, 11))


async def test_a_resend_in_the_same_batch_returns_the_first_copy(log: ChatLog) -> None:
    await log.ping()

    first, other, resent = await asyncio.gather(post(log, "dup", body="one"), post(log, "x"), post(log, "dup"))

    assert first.created and other.created and not resent.created
    assert resent.message == first.message
    assert (await post(log, "next")).message.seq == 3


async def test_a_refused_value_fails_only_its_own_append(log: ChatLog) -> None:
    await log.ping()
    good = [post(log, f"good{i}", room=1 + i % 2) for i in range(6)]
    # A lone surrogate, as json.loads("\"\\ud800\"") returns it, cannot be encoded for the store.
    bad = [post(log, "bad-body", body="\ud800"), post(log, "bad-id-\udfff")]

    results = await asyncio.gather(*bad, *good, return_exceptions=True)

    assert all(isinstance(result, UnicodeEncodeError) for result in results[:2])
    assert all(result.created for result in results[2:])
    for room in (1, 2):
        stored = await log.page_after(room_id=room, after_seq=0, limit=10)
        assert [m.seq for m in stored] == [1, 2, 3]
        assert all(m.client_id.startswith("good") for m in stored)
