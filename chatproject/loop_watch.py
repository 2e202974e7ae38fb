"""Event-loop stalls, logged with what held the loop.

One event loop serves every socket of a server process: a callback that runs long (a blocking
call, a big replay, a garbage collection) holds up every message of the process. The loop
stamps a heartbeat every `interval`; when a heartbeat comes late by more than `threshold`, the
loop logs by how much once it is back. A watcher thread that finds the heartbeat overdue
meanwhile logs the loop thread's stack at that moment: what was holding it.

Each watcher wake takes the GIL for a moment; at a wake every 50 ms (the default threshold of
200 ms, in quarters) that is noise. Stacks are logged at most once per `STACK_LOG_SECONDS`,
so an overloaded loop (late because every turn has too much to do, not because one callback
is stuck) does not flood the log; the late-heartbeat lines say how often it happens.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback

logger = logging.getLogger(__name__)

STACK_LOG_SECONDS = 10.0


class LoopWatch:
    def __init__(self, loop: asyncio.AbstractEventLoop, *, threshold: float) -> None:
        if threshold <= 0:
            raise ValueError("threshold must be positive")
        self.loop = loop
        self.threshold = threshold
        self.interval = threshold / 4
        self._expected = 0.0  # when the next heartbeat is due (time.monotonic)
        self._loop_thread: int | None = None
        self._last_stack_log = float("-inf")
        self._stopped = threading.Event()

    def start(self) -> None:
        """Call from any thread; watching begins once the loop runs."""
        self.loop.call_soon_threadsafe(self._begin)

    def stop(self) -> None:
        self._stopped.set()

    def _begin(self) -> None:
        self._loop_thread = threading.get_ident()
        self._expected = time.monotonic() + self.interval
        self.loop.call_later(self.interval, self._beat)
        threading.Thread(target=self._watch, name="loop-watch", daemon=True).start()

    def _beat(self) -> None:
        now = time.monotonic()
        late = now - self._expected
        if late > self.threshold:
            logger.warning("event loop held for %.0f ms (heartbeat every %.0f ms)", late * 1000, self.interval * 1000)
        self._expected = now + self.interval
        if not self._stopped.is_set():
            self.loop.call_later(self.interval, self._beat)

    def _watch(self) -> None:
        reported = 0.0  # the heartbeat already reported as overdue
        while not self._stopped.wait(self.interval):
            expected, now = self._expected, time.monotonic()
            overdue = now - expected
            if overdue <= self.threshold or expected == reported:
                continue
            reported = expected
            if now - self._last_stack_log < STACK_LOG_SECONDS:
                continue
            self._last_stack_log = now
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                return  # the loop's thread has ended
            stack = "".join(traceback.format_stack(frame))
            logger.warning("event loop held for %.0f ms so far, at:\n%s", overdue * 1000, stack)
