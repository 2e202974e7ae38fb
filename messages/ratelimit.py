"""Per-user, per-room send rate limit (CHAT_RATE_MESSAGES per CHAT_RATE_WINDOW_SECONDS).

A generic cell rate algorithm: a user may send a burst of N messages, then one every W/N
seconds. Shared across processes through Redis when REDIS_URL is set.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from messages.redis_client import redis_key


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after: float  # seconds until a send would be allowed; 0 when allowed


# KEYS[1] = bucket; ARGV = emission interval, burst tolerance (seconds). Uses Redis' clock
# so that every process agrees on "now".
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if now < tat - tolerance then
  return tostring(tat - tolerance - now)
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return '0'
"""


def _limits() -> tuple[float, float]:
    interval = settings.CHAT_RATE_WINDOW_SECONDS / settings.CHAT_RATE_MESSAGES
    return interval, settings.CHAT_RATE_WINDOW_SECONDS - interval


class _MemoryBuckets:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}

    def hit(self, key: str) -> RateDecision:
        interval, tolerance = _limits()
        with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(key, now), now)
            if now < tat - tolerance:
                return RateDecision(False, tat - tolerance - now)
            self._tat[key] = tat + interval
            return RateDecision(True, 0.0)

    def clear(self) -> None:
        with self._lock:
            self._tat.clear()


memory_buckets = _MemoryBuckets()


async def send_rate_hit(*, user_id: int, room_id: int) -> RateDecision:
    """Count one send; say whether it is within the limit."""
    key = redis_key("rate", "send", room_id, user_id)
    if not settings.REDIS_URL:
        return memory_buckets.hit(key)
    from messages.redis_client import get_redis

    interval, tolerance = _limits()
    # register_script sends EVALSHA, and the script body only when Redis does not know it yet.
    gcra = get_redis().register_script(_GCRA_LUA)
    wait = float(await gcra(keys=[key], args=[interval, tolerance]))
    return RateDecision(wait <= 0, max(wait, 0.0))
