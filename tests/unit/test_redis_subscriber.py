"""The hub's lean pub/sub subscriber (messages.redis_subscriber) on the real Redis: what is
published reaches it byte for byte, and its subscriptions outlive a killed connection."""

import asyncio
import uuid

import pytest
import redis.asyncio as redis
from django.conf import settings

from messages import redis_subscriber
from messages.redis_client import REDIS_ERRORS
from messages.redis_subscriber import RedisSubscriber

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


class Inbox:
    def __init__(self) -> None:
        self.messages: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()

    def __call__(self, channel: bytes, payload: bytes) -> None:
        self.messages.put_nowait((channel, payload))

    async def next(self) -> tuple[bytes, bytes]:
        return await asyncio.wait_for(self.messages.get(), 5)


@pytest.fixture
async def publisher():
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def subscriber():
    inbox = Inbox()
    subscriber = RedisSubscriber(settings.REDIS_URL, inbox)
    subscriber.inbox = inbox
    yield subscriber
    subscriber.close()


def channel_name() -> str:
    return f"{settings.CHAT_REDIS_PREFIX}:test:{uuid.uuid4().hex}"


async def test_what_is_published_after_subscribe_arrives_byte_for_byte(subscriber, publisher):
    channel = channel_name()
    await subscriber.subscribe(channel)
    payloads = [bytes(range(256)) + b"\r\n*3\r\n$7\r\nmessage\r\n", b"", b"x" * 100_000]
    for payload in payloads:
        assert await publisher.publish(channel, payload) == 1  # subscribed once subscribe returned
    assert [await subscriber.inbox.next() for _ in payloads] == [(channel.encode(), p) for p in payloads]


async def test_after_unsubscribe_nothing_more_arrives(subscriber, publisher):
    kept, dropped = channel_name(), channel_name()
    await subscriber.subscribe(kept)
    await subscriber.subscribe(dropped)
    await subscriber.unsubscribe(dropped)
    assert await publisher.publish(dropped, b"gone") == 0
    await publisher.publish(kept, b"still here")
    assert await subscriber.inbox.next() == (kept.encode(), b"still here")
    assert subscriber.inbox.messages.empty()


async def test_a_killed_connection_is_replaced_with_every_subscription(subscriber, publisher):
    first, second = channel_name(), channel_name()
    await subscriber.subscribe(first)
    await subscriber.subscribe(second)
    host, port = subscriber._pipe.transport.get_extra_info("sockname")[:2]
    assert await publisher.client_kill(f"{host}:{port}")  # as Redis restarting would, for us alone

    async def both_subscribed_again() -> bool:
        counts = dict(await publisher.pubsub_numsub(first, second))
        return counts[first.encode()] == counts[second.encode()] == 1

    for _ in range(100):  # Redis is asked: it is the one to know
        if await both_subscribed_again():
            break
        await asyncio.sleep(0.05)
    await publisher.publish(second, b"after the kill")
    assert await subscriber.inbox.next() == (second.encode(), b"after the kill")


async def test_with_redis_unreachable_subscribe_fails_as_a_redis_error(monkeypatch):
    monkeypatch.setattr(redis_subscriber, "CONNECT_TIMEOUT_SECONDS", 0.5)
    subscriber = RedisSubscriber("redis://127.0.0.1:1/0", Inbox())  # nothing listens there
    try:
        with pytest.raises(REDIS_ERRORS):
            await subscriber.subscribe(channel_name())
    finally:
        subscriber.close()
