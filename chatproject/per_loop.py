"""One instance per running event loop: for what is bound to the loop that made it.

PyMongo's and redis-py's asyncio clients, and the objects built on them (the chat log, the
room hub), belong to the loop they were created on. A server process has one loop; the tests
and the synchronous bridge (messages.chatlog.run_sync) have others.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable


class PerLoop[T]:
    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._instances: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        """The running loop's instance, made on first use."""
        loop = asyncio.get_running_loop()
        instance = self._instances.get(loop)
        if instance is None:
            instance = self._instances[loop] = self._make()
        return instance

    def pop(self) -> T | None:
        """Forget the running loop's instance (to close it), if it has one."""
        return self._instances.pop(asyncio.get_running_loop(), None)

    def of(self, loop: asyncio.AbstractEventLoop) -> T | None:
        return self._instances.get(loop)
