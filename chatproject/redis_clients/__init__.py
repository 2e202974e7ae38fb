"""The app's own Redis connections (rate limits, presence, access stamps), one set per event loop.

The channel layer keeps its own connections (channels-redis); these are for the app's keys:
- `get_redis()`: redis-py's asyncio client of the running loop (clients are bound to their loop);
- `get_sync_redis()`: redis-py's client for synchronous code (views, signal handlers);
- `chatproject.redis_clients.batch`: the commands of a loop turn written together, on a lean
  pipelined connection (`chatproject.redis_clients.pipe`).
"""

from __future__ import annotations

import redis as redis_sync
import redis.asyncio as redis
from django.conf import settings
from redis.exceptions import RedisError

from chatproject.per_loop import PerLoop

__all__ = ["REDIS_ERRORS", "close_redis", "get_redis", "get_sync_redis", "redis_key"]

# What a Redis outage raises, from redis-py or from channels-redis underneath.
REDIS_ERRORS = (RedisError, OSError)


def redis_key(*parts: object) -> str:
    """A key under CHAT_REDIS_PREFIX, so deployments sharing one Redis database do not collide."""
    return ":".join([settings.CHAT_REDIS_PREFIX, *map(str, parts)])


# No socket timeout on purpose: redis-py 8 changed it to 5 s (docs/dependencies.md).
_clients = PerLoop(lambda: redis.Redis.from_url(settings.REDIS_URL, decode_responses=True))


def get_redis() -> redis.Redis:
    return _clients.get()


_sync_client: redis_sync.Redis | None = None


def get_sync_redis() -> redis_sync.Redis:
    """The process's client for synchronous code (views, signal handlers); thread-safe."""
    global _sync_client
    if _sync_client is None:
        _sync_client = redis_sync.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    return _sync_client


async def close_redis() -> None:
    """Close this loop's clients: redis-py's and the lean one of the batcher."""
    from chatproject.redis_clients.batch import close_batcher

    close_batcher()
    client = _clients.pop()
    if client is not None:
        await client.aclose()
