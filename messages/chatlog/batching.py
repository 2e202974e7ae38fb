"""Group commit for the SQL chat-log backends: appends that arrive while a write is in flight
are committed together, in one transaction and so with one fsync.

A lone append starts a commit at once (no timer); while that commit runs, later appends
queue up and the next commit takes all of them (up to a cap). Each caller's awaitable
resolves only after the transaction holding its append has committed, so an acknowledgement
still follows the durable write.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .base import ChatLogUnavailable

# Bounds one transaction's length: how long other writers (and SQLite's readers) wait for it.
DEFAULT_MAX_BATCH = 256


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """One `ChatLog.append` call, waiting for its batch."""

    room_id: int
    author_id: int
    author_username: str
    client_id: str
    body: str


def apply_each[Item, Result](
    items: Sequence[Item],
    apply: Callable[[Item], Result],
    *,
    store_errors: tuple[type[Exception], ...],
) -> list[Result | Exception]:
    """`apply(item)` for every item, inside the caller's open transaction.

    An exception that belongs to one item (a value the store rejects) becomes that item's
    outcome and the others go on; `apply` must leave nothing of a failed item behind. A
    `store_errors` exception (connection lost, lock timeout, ...) propagates: the caller
    rolls the whole transaction back.
    """
    outcomes: list[Result | Exception] = []
    for item in items:
        try:
            outcomes.append(apply(item))
        except store_errors:
            raise
        except Exception as error:
            outcomes.append(error)
    return outcomes


class GroupCommit[Item, Result]:
    """Feeds submitted items to `commit_batch`, a blocking function run in a worker thread
    that stores a whole batch in one transaction.

    `commit_batch(items)` returns one outcome per item, in order: its result, or the
    exception that item's caller should get. When it raises instead, nothing of the batch
    was stored and every caller of the batch gets `ChatLogUnavailable`.

    Bound to the event loop of its first `submit` (its futures and its task belong to that
    loop), like the repository instances that own one.
    """

    def __init__(
        self,
        commit_batch: Callable[[list[Item]], Sequence[Result | Exception]],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._commit_batch = commit_batch
        self._max_batch = max_batch
        self._queue: deque[tuple[Item, asyncio.Future[Result]]] = deque()
        self._committer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, item: Item) -> Result:
        """Queue `item` and return its outcome once its batch has committed."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("GroupCommit used from another event loop: create one instance per loop")
        waiter: asyncio.Future[Result] = loop.create_future()
        self._queue.append((item, waiter))
        if self._committer is None:
            # Started, not awaited: appends submitted in the same loop iteration join this batch.
            self._committer = loop.create_task(self._commit_until_empty())
        return await waiter

    async def _commit_until_empty(self) -> None:
        try:
            while self._queue:
                batch = self._next_batch()
                if batch:
                    await self._commit(batch)
        except BaseException:
            # Cancelled (the loop is shutting down): nobody is left to commit the queue.
            for _, waiter in self._queue:
                waiter.cancel()
            self._queue.clear()
            raise
        finally:
            self._committer = None

    def _next_batch(self) -> list[tuple[Item, asyncio.Future[Result]]]:
        batch = []
        while self._queue and len(batch) < self._max_batch:
            item, waiter = self._queue.popleft()
            # A caller cancelled before its batch started gets nothing stored.
            if not waiter.done():
                batch.append((item, waiter))
        return batch

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            outcomes = await asyncio.to_thread(self._commit_batch, [item for item, _ in batch])
        except Exception as error:
            for _, waiter in batch:
                if not waiter.done():
                    # One exception per caller: a shared one would collect every caller's traceback.
                    unavailable = ChatLogUnavailable(str(error) or type(error).__name__)
                    unavailable.__cause__ = error
                    waiter.set_exception(unavailable)
            return
        except BaseException:
            for _, waiter in batch:
                waiter.cancel()
            raise
        for (_, waiter), outcome in zip(batch, outcomes, strict=True):
            if waiter.done():  # its caller was cancelled meanwhile; the append stands
                continue
            if isinstance(outcome, Exception):
                waiter.set_exception(outcome)
            else:
                waiter.set_result(outcome)
