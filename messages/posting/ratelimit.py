"""Per-user, per-room send rate limit (CHAT_RATE_MESSAGES per CHAT_RATE_WINDOW_SECONDS).

A generic cell rate algorithm: a user may send a burst of N messages, then one every W/N
seconds. Shared across processes through Redis when REDIS_URL is set. The same round trip
reads the sender's access stamps (rooms.access_stamps), which say whether the cached room
and membership are still current.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from redis.exceptions import NoScriptError

from chatproject.redis_clients import get_redis, redis_key
from chatproject.redis_clients.batch import batched


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after: float  # seconds until a send would be allowed; 0 when allowed
    stamps: tuple[str | None, ...] = ()  # the values of `stamp_keys`, read in the same round trip


# KEYS[1] = bucket, KEYS[2..] = stamps to read; ARGV = emission interval, burst tolerance
# (seconds). Uses Redis' clock so that every process agrees on "now".
_GCRA_LUA = """
local stamps = {}
for i = 2, #KEYS do stamps[i - 1] = redis.call('GET', KEYS[i]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = '0'
if now < tat - tolerance then
  wait = tostring(tat - tolerance - now)
else
  local new_tat = tat + interval
  redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
end
return {wait, unpack(stamps, 1, #KEYS - 1)}
"""


_GCRA_SHA = hashlib.sha1(_GCRA_LUA.encode(), usedforsecurity=False).hexdigest()


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


async def send_rate_hit(*, user_id: int, room_id: int, stamp_keys: tuple[str, ...] = ()) -> RateDecision:
    """Count one send; say whether it is within the limit, and read `stamp_keys`."""
    key = redis_key("rate", "send", room_id, user_id)
    if not settings.REDIS_URL:
        from rooms.access_stamps import memory_stamps

        decision = memory_buckets.hit(key)
        return RateDecision(decision.allowed, decision.retry_after, tuple(map(memory_stamps.get, stamp_keys)))
    interval, tolerance = _limits()
    keys = [key, *stamp_keys]
    try:
        # A missing stamp is `false` in Lua (not nil, which would end the table) and None here.
        wait, *stamps = await batched("EVALSHA", _GCRA_SHA, len(keys), *keys, interval, tolerance)
    except NoScriptError:  # a Redis that has not seen the script yet (restarted, flushed)
        gcra = get_redis().register_script(_GCRA_LUA)  # loads it, and runs it
        wait, *stamps = await gcra(keys=keys, args=[interval, tolerance])
    return RateDecision(float(wait) <= 0, max(float(wait), 0.0), tuple(stamps))
