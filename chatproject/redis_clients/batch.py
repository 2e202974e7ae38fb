"""Redis commands of concurrent sends, sent together: one write per turn of the event loop.

Every message costs a Redis command (the rate-limit script), and presence changes a few.
Commands issued while the event loop runs one turn are collected and written at the start of
the next, in one write on the loop's lean connection (chatproject.redis_clients.pipe); each
caller's future is resolved as its reply arrives. A lone command waits no longer than that one turn.

Not a transaction: each command succeeds or fails on its own, and its caller sees its own
result or error. A lost connection fails the commands in flight (redis.exceptions
.ConnectionError, one of REDIS_ERRORS) and the next command opens a new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from chatproject.per_loop import PerLoop
from chatproject.redis_clients.pipe import PipeProtocol, open_pipe


class CommandBatcher:
    def __init__(self, url: str) -> None:
        self.url = url
        self._pending: list[tuple[tuple, asyncio.Future]] = []
        self._pipe: PipeProtocol | None = None
        self._connecting: asyncio.Task | None = None

    def execute(self, *command: Any) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((command, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        if self._connecting is not None:
            return  # the connection, once open, takes everything pending
        pipe = self._pipe
        if pipe is None or pipe.lost is not None:
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
            return
        batch, self._pending = self._pending, []
        pipe.send([command for command, _ in batch], [future for _, future in batch])

    async def _connect(self) -> None:
        try:
            self._pipe = await open_pipe(self.url)
        except Exception as error:  # Redis down: every caller waiting hears of it
            batch, self._pending = self._pending, []
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        finally:
            self._connecting = None
        if self._pending:
            self._flush()

    def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        batch, self._pending = self._pending, []
        for _, future in batch:
            future.cancel()
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None


_batchers = PerLoop(lambda: CommandBatcher(settings.REDIS_URL))


def _batcher() -> CommandBatcher:
    return _batchers.get()


async def batched(*command: Any) -> Any:
    """Run one Redis command (`"EVALSHA", sha, ...`) in the next write of this loop."""
    return await _batcher().execute(*command)


async def batched_all(*commands: Sequence[Any]) -> list[Any]:
    """Run several Redis commands in the next write of this loop, one after the other (not a
    transaction: another client's command may come between two of them). Their replies, in
    order; if any failed, the first failure is raised once all have answered."""
    batcher = _batcher()
    replies = await asyncio.gather(*(batcher.execute(*command) for command in commands), return_exceptions=True)
    for reply in replies:
        if isinstance(reply, BaseException):
            raise reply
    return replies


def close_batcher() -> None:
    """Close this loop's connection (tests: before their event loop goes)."""
    batcher = _batchers.pop()
    if batcher is not None:
        batcher.close()
