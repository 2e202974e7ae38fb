"""Full garbage collections that walk only what is new, not every open socket.

Python's cycle collector walks every tracked object in a full collection, and an open socket
keeps about 180 of them (its consumer, scope, tasks, queues, autobahn's and Twisted's
protocol objects). With 10,000 sockets open, each full collection held the event loop for
0.7-1.5 s, and while sockets keep connecting one comes every ~1,200 sockets: every socket
of the process waits that long (measured in bench's idle-10000, chatproject.loop_watch).
Almost nothing they walk is garbage (`collected=0` in most of them).

After each full collection the survivors are frozen (`gc.freeze()`): the next ones walk
only objects that arrived since. Objects that are frozen are still freed by reference
counting; only reference cycles among them wait, and a socket that closes leaves some
(its consumer and its tasks refer to each other). So every `thaw_every` seconds everything
is unfrozen, and the next full collection walks it all once and frees those cycles: one long
pause that often, instead of one for every thousand sockets that connect.
"""

from __future__ import annotations

import asyncio
import gc

THAW_EVERY_SECONDS = 600.0


class GcFreezer:
    def __init__(self, loop: asyncio.AbstractEventLoop, *, thaw_every: float = THAW_EVERY_SECONDS) -> None:
        self.loop = loop
        self.thaw_every = thaw_every

    def start(self) -> None:
        """Call from any thread; everything tracked now is frozen at once."""
        gc.freeze()
        gc.callbacks.append(self._after_collection)
        self.loop.call_soon_threadsafe(self._schedule_thaw)

    def stop(self) -> None:
        if self._after_collection in gc.callbacks:
            gc.callbacks.remove(self._after_collection)

    def _after_collection(self, phase: str, info: dict) -> None:
        # Runs in whichever thread collected, in the middle of an allocation: freeze on the
        # loop, right after, rather than inside the collector.
        if phase == "stop" and info["generation"] == 2:
            self.loop.call_soon_threadsafe(gc.freeze)

    def _schedule_thaw(self) -> None:
        self.loop.call_later(self.thaw_every, self._thaw)

    def _thaw(self) -> None:
        gc.unfreeze()
        self._schedule_thaw()
