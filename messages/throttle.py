"""A per-socket sliding-window throttle for cheap-to-send, costly-to-serve frames."""

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
