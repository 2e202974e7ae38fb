"""Every member of a room, on every daphne process, receives every message exactly once, in order."""

from __future__ import annotations

import asyncio

import pytest

from tests.realtime.conftest import room_url, user_with_token
from tests.support.ws import ChatClient

MESSAGES_PER_SENDER = 5


@pytest.fixture
def members(transactional_db):
    return [user_with_token() for _ in range(6)]


async def test_members_on_two_processes_receive_every_message_once_in_order(server_a, server_b, room, members):
    servers = [server_a, server_b]
    clients = [
        await ChatClient.open(room_url(servers[i % 2], room), token=user.token, origin=None)
        for i, user in enumerate(members)
    ]
    try:

        async def send_all(index: int, client: ChatClient) -> None:
            for n in range(MESSAGES_PER_SENDER):
                await client.send_message(f"c{index}-{n}", f"message {n} from client {index}")

        expected = MESSAGES_PER_SENDER * len(clients)
        receivers = [asyncio.create_task(_collect(client, expected)) for client in clients]
        await asyncio.gather(*(send_all(i, c) for i, c in enumerate(clients)))
        received = await asyncio.gather(*receivers)
    finally:
        for client in clients:
            await client.close()

    reference = [m["id"] for m in received[0]]
    for messages in received:
        assert [m["seq"] for m in messages] == list(range(1, expected + 1))
        assert [m["id"] for m in messages] == reference, "every socket sees the same messages in the same order"
    bodies = {m["body"] for m in received[0]}
    assert bodies == {f"message {n} from client {i}" for i in range(len(clients)) for n in range(MESSAGES_PER_SENDER)}


async def _collect(client: ChatClient, count: int) -> list[dict]:
    messages = await client.collect_messages(count)
    await client.assert_silent(0.5)  # and nothing more: no duplicate arrives late
    return messages


@pytest.mark.slow
async def test_a_socket_idle_for_longer_than_redis_timeouts_still_receives(server_a, server_b, room, members):
    idle = await ChatClient.open(room_url(server_a, room), token=members[0].token)
    sender = await ChatClient.open(room_url(server_b, room), token=members[1].token)
    try:
        await asyncio.sleep(12)  # longer than redis-py 8's 5 s socket timeout (docs/dependencies.md)
        await sender.send_message("after-idle", "are you still there?")
        [message] = await idle.messages(1)
        assert message["body"] == "are you still there?"
    finally:
        await idle.close()
        await sender.close()
