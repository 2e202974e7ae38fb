"""Per-socket throttles: a sliding window for cheap-to-send, costly-to-serve frames, and the
hold that keeps a rate-limited burst of sends in order."""

from __future__ import annotations

import time
from collections import deque


class WindowThrottle:
    """At most `limit` events in any `seconds`-long window."""

    def __init__(self, *, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._times: deque[float] = deque()

    def retry_after(self) -> float:
        """0 when an event is allowed now (and counts it), else seconds until one is."""
        now = time.monotonic()
        while self._times and now - self._times[0] >= self.seconds:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return self.seconds - (now - self._times[0])
        self._times.append(now)
        return 0.0


class SendHold:
    """After a `rate_limited` refusal, the socket's later sends are refused too, for its
    retry_after but at least MIN_SECONDS. A client that pipelines a burst then gets it stored
    in the order written: when the refusal said "a token in 3 ms", the next frame of the burst,
    handled a moment later, would otherwise take that token and overtake the refused one."""

    MIN_SECONDS = 0.25

    def __init__(self) -> None:
        self._until = 0.0

    def remaining(self) -> float:
        return max(0.0, self._until - time.monotonic())

    def hold(self, retry_after: float) -> float:
        """Start (or renew) the hold; the seconds it lasts, which is what the client must wait."""
        seconds = max(retry_after, self.MIN_SECONDS)
        self._until = time.monotonic() + seconds
        return seconds
