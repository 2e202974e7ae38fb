"""Group commit for the SQL chat-log backends: appends that arrive while a write is in flight
are committed together, in one transaction and so with one fsync.

A lone append starts a commit at once (no timer); while that commit runs, later appends
queue up and the next commit takes all of them (up to a cap). Each caller's awaitable
resolves only after the transaction holding its append has committed, so an acknowledgement
still follows the durable write.
"""

from __future__ import annotations

import asyncio
import queue
import threading
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

    A worker thread of its own drains the queue batch after batch for as long as items keep
    coming, and sleeps when it finds the queue empty. Handing work to a sleeping thread is
    what costs: through the default executor (`to_thread`) about twice what a plain queue to a
    waiting thread of its own costs, and to a thread that is still draining, nothing
    (docs/performance-analysis.md).

    Bound to the event loop of its first `submit` (its futures belong to that loop), like the
    repository instances that own one; `close()` ends the worker thread.
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
        # Shared with the worker thread: both sides touch it and `_draining` under `_lock`.
        self._queue: deque[tuple[Item, asyncio.Future[Result]]] = deque()
        self._lock = threading.Lock()
        self._draining = False
        # The worker sleeps on this; True wakes it to drain, False ends it.
        self._wake: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, item: Item) -> Result:
        """Queue `item` and return its outcome once its batch has committed."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("GroupCommit used from another event loop: create one instance per loop")
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="chatlog-group-commit", daemon=True)
            self._worker.start()
        waiter: asyncio.Future[Result] = loop.create_future()
        with self._lock:
            self._queue.append((item, waiter))
            wake, self._draining = not self._draining, True
        if wake:
            # On the loop's next turn, not now: items submitted in this turn join the first batch.
            loop.call_soon(self._wake.put, True)
        return await waiter

    def close(self) -> None:
        """End the worker thread once it has drained what is queued."""
        self._wake.put(False)

    def _work(self) -> None:
        while self._wake.get():
            self._drain()

    def _drain(self) -> None:
        """Worker thread: commit batch after batch until the queue is empty."""
        assert self._loop is not None
        while batch := self._next_batch():
            try:
                outcomes: Sequence[Result | Exception] | Exception = self._commit_batch([item for item, _ in batch])
            except Exception as error:
                outcomes = error
            try:
                self._loop.call_soon_threadsafe(self._settle, batch, outcomes)
            except RuntimeError:  # the loop is closed: nobody is left to answer
                with self._lock:
                    self._queue.clear()
                    self._draining = False
                return

    def _next_batch(self) -> list[tuple[Item, asyncio.Future[Result]]]:
        batch = []
        with self._lock:
            while self._queue and len(batch) < self._max_batch:
                item, waiter = self._queue.popleft()
                # A caller cancelled before its batch started gets nothing stored. (Read from
                # this thread: a cancel racing with it means the append stands, as below.)
                if not waiter.done():
                    batch.append((item, waiter))
            if not batch:
                self._draining = False
        return batch

    @staticmethod
    def _settle(
        batch: list[tuple[Item, asyncio.Future[Result]]], outcomes: Sequence[Result | Exception] | Exception
    ) -> None:
        if isinstance(outcomes, Exception):
            for _, waiter in batch:
                if not waiter.done():
                    # One exception per caller: a shared one would collect every caller's traceback.
                    unavailable = ChatLogUnavailable(str(outcomes) or type(outcomes).__name__)
                    unavailable.__cause__ = outcomes
                    waiter.set_exception(unavailable)
            return
        for (_, waiter), outcome in zip(batch, outcomes, strict=True):
            if waiter.done():  # its caller was cancelled meanwhile; the append stands
                continue
            if isinstance(outcome, Exception):
                waiter.set_exception(outcome)
            else:
                waiter.set_result(outcome)
