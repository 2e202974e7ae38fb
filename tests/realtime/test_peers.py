"""A room that only one process serves costs Redis no publish per message; once a second process
serves it too, every message crosses Redis to it (messages.realtime.peers), on a Redis of this
test's own so that its publishes can be counted."""

from __future__ import annotations

import asyncio

import redis
from asgiref.sync import sync_to_async

from messages.realtime import peers
from tests.realtime.conftest import room_url
from tests.support.processes import RedisProcess
from tests.support.ws import ChatClient

UNLIMITED = {"CHAT_RATE_MESSAGES": "1000"}


def _publishes(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return client.info("commandstats").get("cmdstat_publish", {}).get("calls", 0)
    finally:
        client.close()


async def test_messages_cross_redis_only_to_processes_that_serve_the_room(servers_with, room, people):
    store = await sync_to_async(RedisProcess.started)()
    try:
        first = await sync_to_async(servers_with)("peers-a", REDIS_URL=store.url, **UNLIMITED)
        sender = await ChatClient.open(room_url(first, room), token=people[0].token)
        neighbour = await ChatClient.open(room_url(first, room), token=people[1].token)
        await asyncio.sleep(peers.WARM_UP_SECONDS + 0.2)  # new to the room, the process publishes a while
        before = await sync_to_async(_publishes)(store.url)
        for n in range(20):
            await sender.post(f"alone-{n}", f"alone {n}")
        assert [m["body"] for m in await neighbour.collect_messages(20)] == [f"alone {n}" for n in range(20)]
        # The hub's own announcements, at most; no publish per message.
        assert await sync_to_async(_publishes)(store.url) - before < 5

        second = await sync_to_async(servers_with)("peers-b", REDIS_URL=store.url, **UNLIMITED)
        remote = await ChatClient.open(room_url(second, room), token=people[2].token)
        await asyncio.sleep(0.5)  # the two hubs hear of each other
        before = await sync_to_async(_publishes)(store.url)
        for n in range(20):
            await sender.post(f"shared-{n}", f"shared {n}")
        assert [m["body"] for m in await remote.collect_messages(20)] == [f"shared {n}" for n in range(20)]
        assert await sync_to_async(_publishes)(store.url) - before >= 20
        for client in (sender, neighbour, remote):
            await client.close()
    finally:
        await sync_to_async(store.stop)()


async def test_a_message_stored_before_the_other_process_heard_of_a_new_one_still_arrives(servers_with, room, people):
    # The second process's socket opens and at once a message is posted on the first, which
    # may not have heard of the second yet: the message arrives anyway, from the log.
    first = await sync_to_async(servers_with)("race-a")
    second = await sync_to_async(servers_with)("race-b")
    sender = await ChatClient.open(room_url(first, room), token=people[0].token)
    for n in range(5):
        remote = await ChatClient.open(room_url(second, room), token=people[1].token)
        message = await sender.post(f"race-{n}", f"race {n}")
        assert await remote.messages(1, timeout=6) == [message]
        await remote.close()
        await asyncio.sleep(0.3)  # the second process stops serving the room, and says so
    await sender.close()
