"""Group commit (messages/chatlog/batching.py): appends that wait share one transaction."""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading

import pytest

from messages.chatlog import sqlite as sqlite_backend
from messages.chatlog.base import ChatLogUnavailable
from messages.chatlog.batching import GroupCommit, apply_each
from messages.chatlog.sqlite import SQLiteChatLog


class FakeStore:
    """Records each batch it is asked to commit; answers each item with its double.

    `hold()` makes the next commit wait until `release()`, to let appends pile up behind it.
    """

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.fail_with: Exception | None = None
        self.refuse: set[int] = set()
        self._gate = threading.Event()
        self._gate.set()
        self.committing = threading.Event()

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def commit(self, items: list[int]) -> list[int | Exception]:
        self.committing.set()
        self._gate.wait(5)
        self.batches.append(items)
        if self.fail_with is not None:
            raise self.fail_with
        return [ValueError(f"refused {item}") if item in self.refuse else item * 2 for item in items]


async def wait_for(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, 5)


async def test_a_lone_item_commits_at_once() -> None:
    store = FakeStore()
    batcher = GroupCommit(store.commit)

    assert await asyncio.wait_for(batcher.submit(1), timeout=1) == 2
    assert store.batches == [[1]]


async def test_items_submitted_together_share_one_commit() -> None:
    store = FakeStore()
    batcher = GroupCommit(store.commit)

    results = await asyncio.gather(*(batcher.submit(i) for i in range(50)))

    assert results == [i * 2 for i in range(50)]
    assert store.batches == [list(range(50))]


async def test_items_arriving_during_a_commit_share_the_next_one() -> None:
    store = FakeStore()
    batcher = GroupCommit(store.commit)
    store.hold()
    first = asyncio.ensure_future(batcher.submit(0))
    await wait_for(store.committing)

    later = [asyncio.ensure_future(batcher.submit(i)) for i in range(1, 11)]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in [first, *later])  # nobody is answered before its commit
    store.release()

    assert await asyncio.gather(first, *later) == [i * 2 for i in range(11)]
    assert store.batches == [[0], list(range(1, 11))]


class CountingWake(queue.SimpleQueue):
    """The batcher's wake-up queue, counting how often the worker thread is woken."""

    def __init__(self) -> None:
        self.wakes = 0

    def put(self, item, block=True, timeout=None) -> None:
        self.wakes += bool(item)
        super().put(item, block, timeout)


async def test_batches_that_follow_each_other_wake_the_worker_once() -> None:
    # Waking a worker thread is the expensive part; under load the awake one keeps going.
    store = FakeStore()
    batcher = GroupCommit(store.commit)
    batcher._wake = wake = CountingWake()
    store.hold()
    first = asyncio.ensure_future(batcher.submit(0))
    await wait_for(store.committing)
    later = [asyncio.ensure_future(batcher.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0.01)
    store.release()

    assert await asyncio.gather(first, *later) == [i * 2 for i in range(6)]
    assert store.batches == [[0], [1, 2, 3, 4, 5]]
    assert wake.wakes == 1

    # Once the queue ran dry the worker went to sleep; the next item wakes it again.
    assert await batcher.submit(6) == 12
    assert wake.wakes == 2
    batcher.close()


async def test_close_ends_the_worker_thread() -> None:
    batcher = GroupCommit(FakeStore().commit)
    assert await batcher.submit(1) == 2
    worker = batcher._worker

    batcher.close()

    await asyncio.to_thread(worker.join, 5)
    assert not worker.is_alive()


async def test_batches_are_capped() -> None:
    store = FakeStore()
    batcher = GroupCommit(store.commit, max_batch=4)

    await asyncio.gather(*(batcher.submit(i) for i in range(10)))

    assert store.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


async def test_a_failed_batch_fails_every_caller_as_unavailable() -> None:
    store = FakeStore()
    batcher = GroupCommit(store.commit)
    store.fail_with = OSError("disk full")

    results = await asyncio.gather(*(batcher.submit(i) for i in range(5)), return_exceptions=True)

    assert all(isinstance(result, ChatLogUnavailable) for result in results)
    assert len({id(result) for result in results}) == 5  # one exception each
    assert all(isinstance(result.__cause__, OSError) for result in results)
    assert "disk full" in str(results[0])
    # The next batch is unaffected.
    store.fail_with = None
    assert await batcher.submit(7) == 14


async def test_a_refused_item_fails_alone() -> None:
    store = FakeStore()
    store.refuse = {3}
    batcher = GroupCommit(store.commit)

    results = await asyncio.gather(*(batcher.submit(i) for i in range(6)), return_exceptions=True)

    assert isinstance(results[3], ValueError)
    assert [r for i, r in enumerate(results) if i != 3] == [0, 2, 4, 8, 10]
    assert store.batches == [list(range(6))]


async def test_a_caller_cancelled_while_waiting_stores_nothing() -> None:
    store = FakeStore()
    batcher = GroupCommit(store.commit)
    store.hold()
    first = asyncio.ensure_future(batcher.submit(0))
    await wait_for(store.committing)
    cancelled = asyncio.ensure_future(batcher.submit(1))
    kept = asyncio.ensure_future(batcher.submit(2))
    await asyncio.sleep(0)
    cancelled.cancel()
    store.release()

    assert await asyncio.gather(first, kept) == [0, 4]
    assert store.batches == [[0], [2]]


async def test_one_batcher_serves_one_event_loop() -> None:
    batcher = GroupCommit(FakeStore().commit)
    await batcher.submit(1)

    def submit_from_another_loop() -> None:
        asyncio.run(batcher.submit(2))

    with pytest.raises(RuntimeError, match="another event loop"):
        await asyncio.to_thread(submit_from_another_loop)


def test_apply_each_keeps_item_errors_and_raises_store_errors() -> None:
    def apply(item: int) -> int:
        if item == 2:
            raise ValueError("bad value")
        if item == 9:
            raise ConnectionError("store gone")
        return item

    outcomes = apply_each([1, 2, 3], apply, store_errors=(ConnectionError,))
    assert outcomes[0] == 1 and isinstance(outcomes[1], ValueError) and outcomes[2] == 3
    with pytest.raises(ConnectionError):
        apply_each([1, 9, 3], apply, store_errors=(ConnectionError,))


# --- the SQLite backend ---------------------------------------------------------------


@pytest.fixture
def sqlite_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the SQLite backend's connections run from now on."""
    statements: list[str] = []
    connect = sqlite3.connect

    def tracing_connect(*args, **kwargs) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", tracing_connect)
    return statements


async def post(log: SQLiteChatLog, client_id: str, *, room: int = 1, body: str = "hi"):
    return await log.append(room_id=room, author_id=1, author_username="a", client_id=client_id, body=body)


async def test_sqlite_commits_concurrent_appends_together(tmp_path, sqlite_statements: list[str]) -> None:
    log = SQLiteChatLog(path=str(tmp_path / "chat.sqlite3"))
    try:
        results = await asyncio.gather(*(post(log, f"c{i}") for i in range(40)))
    finally:
        await log.close()

    assert sorted(r.message.seq for r in results) == list(range(1, 41))
    assert sqlite_statements.count("COMMIT") <= 2  # one per append without group commit


async def test_sqlite_batch_that_cannot_write_fails_every_append_and_stores_none(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_backend, "_BUSY_TIMEOUT_MS", 200)
    path = str(tmp_path / "chat.sqlite3")
    log = SQLiteChatLog(path=path)
    try:
        await post(log, "before")
        other_process = sqlite3.connect(path, isolation_level=None)
        other_process.execute("BEGIN IMMEDIATE")  # holds the write lock
        results = await asyncio.gather(*(post(log, f"c{i}", room=1 + i % 2) for i in range(6)), return_exceptions=True)
        other_process.execute("ROLLBACK")
        other_process.close()

        assert all(isinstance(result, ChatLogUnavailable) for result in results)
        assert [m.client_id for m in await log.page_after(room_id=1, after_seq=0, limit=10)] == ["before"]
        assert await log.last_seq(room_id=2) == 0
        assert (await post(log, "after")).message.seq == 2
    finally:
        await log.close()
