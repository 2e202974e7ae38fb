"""Redis commands of concurrent sends share one pipeline (messages.redis_batch), on the real Redis."""

import asyncio
import uuid

import pytest
import redis.asyncio as redis
from django.conf import settings
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from messages import redis_batch, redis_client
from messages.ratelimit import send_rate_hit

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


@pytest.fixture
async def key():
    name = f"{settings.CHAT_REDIS_PREFIX}:test:{uuid.uuid4().hex}"
    yield name
    await redis_client.get_redis().delete(name)
    await redis_client.close_redis()


async def test_each_caller_gets_its_own_result_in_the_order_issued(key):
    results = await asyncio.gather(*(redis_batch.batched("RPUSH", key, n) for n in range(10)))
    assert results == list(range(1, 11))
    assert await redis_client.get_redis().lrange(key, 0, -1) == [str(n) for n in range(10)]


async def test_a_failing_command_fails_only_its_own_caller(key):
    await redis_client.get_redis().set(key, "not a number")
    good, bad = await asyncio.gather(
        redis_batch.batched("GET", key), redis_batch.batched("INCR", key), return_exceptions=True
    )
    assert good == "not a number"
    assert isinstance(bad, redis.ResponseError)


async def test_with_redis_down_every_caller_hears_of_it(monkeypatch):
    down = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))  # nothing listens there
    monkeypatch.setattr(redis_batch, "get_redis", lambda: down)
    outcomes = await asyncio.gather(*(redis_batch.batched("PING") for _ in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, redis_client.REDIS_ERRORS) for outcome in outcomes), outcomes
    await down.aclose()


async def test_the_rate_limit_works_on_a_redis_that_lost_its_scripts(key):
    await redis_client.get_redis().script_flush()  # as after a restart
    first = await send_rate_hit(user_id=1, room_id=int(uuid.uuid4().int % 10**9))
    assert first.allowed and first.retry_after == 0
    await redis_client.close_redis()
