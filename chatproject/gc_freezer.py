"""Full garbage collections that walk only what is new, not every open socket.

Python's cycle collector walks every tracked object in a full collection, and an open socket
keeps a couple of hundred of them (its consumer, scope, tasks, queues, autobahn's and
Twisted's protocol objects). With thousands of sockets open, each full collection holds the
event loop for as long as that walk takes, and every socket of the process waits meanwhile
(docs/performance-analysis.md has the figures). Almost nothing they walk is garbage.

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
