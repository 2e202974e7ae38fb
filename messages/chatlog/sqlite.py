"""Embedded chat-log backend: one SQLite file, no server.

sqlite3 blocks, so every call runs in a worker thread; one connection, guarded by a
lock, serves them all. Cross-process safety comes from SQLite's own file locking:
appends take the write lock up front (`BEGIN IMMEDIATE`), so max(seq)+1 cannot race.
Appends are group-committed (messages/chatlog/batching.py): those that arrive while a
transaction is in flight share the next one, and so its fsync.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from .base import AppendResult, ChatLogUnavailable, StoredMessage
from .batching import AppendRequest, GroupCommit, apply_each
from .sql import SQLChatLog

_T = TypeVar("_T")

# How long a writer waits for another process's transaction before giving up.
_BUSY_TIMEOUT_MS = 5000
# The store failed, not one message's values: the whole batch is rolled back and reported.
_STORE_ERRORS = (sqlite3.OperationalError, OSError)  # OSError: creating the directory

# Indexed only by what appends and reads look up, as the MariaDB table is. No query finds a
# message by its random `id`: an index on it cost every append a B-tree insert at a random
# page, and one more page to write and fsync (a quarter of an append's CPU, timed alone), and
# with two processes one more page to read again after the other's commit. Files made with
# the earlier schema (`id TEXT PRIMARY KEY`) keep that index and work as before.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_messages (
    id TEXT NOT NULL,
    room_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    author_id INTEGER NOT NULL,
    author_username TEXT NOT NULL,
    client_id TEXT NOT NULL,
    body TEXT,
    created_at TEXT NOT NULL,
    deleted_at TEXT,
    UNIQUE (room_id, seq),
    UNIQUE (room_id, author_id, client_id)
)
"""

_COLUMNS = "id, room_id, seq, author_id, author_username, client_id, body, created_at, deleted_at"


def _select_where(where: str) -> str:
    return f"SELECT {_COLUMNS} FROM chat_messages {where}"  # noqa: S608 (constants only)


_BY_CLIENT_ID = _select_where("WHERE room_id = ? AND author_id = ? AND client_id = ?")
_BY_SEQ = _select_where("WHERE room_id = ? AND seq = ?")
_AFTER = _select_where("WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?")
_BEFORE = _select_where("WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?")
_NEWEST = _select_where("WHERE room_id = ? ORDER BY seq DESC LIMIT ?")
_MAX_SEQ = "SELECT COALESCE(MAX(seq), 0) FROM chat_messages WHERE room_id = ?"
_INSERT = f"INSERT INTO chat_messages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)"  # noqa: S608
_TOMBSTONE = "UPDATE chat_messages SET body = NULL, deleted_at = ? WHERE room_id = ? AND seq = ? AND deleted_at IS NULL"


def _now() -> datetime:
    # Millisecond precision, like the Mongo backend, so both behave the same.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _enable_wal(conn: sqlite3.Connection) -> None:
    # Switching a new file to WAL can fail with "locked" without waiting for busy_timeout
    # while another process opens the same file, so wait here instead.
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _to_message(row: tuple) -> StoredMessage:
    id_, room_id, seq, author_id, author_username, client_id, body, created_at, deleted_at = row
    return StoredMessage(
        id=id_,
        room_id=room_id,
        seq=seq,
        author_id=author_id,
        author_username=author_username,
        client_id=client_id,
        body=body,
        created_at=datetime.fromisoformat(created_at),
        deleted_at=datetime.fromisoformat(deleted_at) if deleted_at else None,
    )


def _append_one(conn: sqlite3.Connection, request: AppendRequest) -> AppendResult:
    """One append inside the batch's transaction; its INSERT is its only write."""
    row = conn.execute(_BY_CLIENT_ID, (request.room_id, request.author_id, request.client_id)).fetchone()
    if row is not None:
        return AppendResult(_to_message(row), created=False)
    (last,) = conn.execute(_MAX_SEQ, (request.room_id,)).fetchone()
    message = StoredMessage(
        id=uuid.uuid4().hex,
        room_id=request.room_id,
        seq=last + 1,
        author_id=request.author_id,
        author_username=request.author_username,
        client_id=request.client_id,
        body=request.body,
        created_at=_now(),
    )
    conn.execute(
        _INSERT,
        (
            message.id,
            message.room_id,
            message.seq,
            message.author_id,
            message.author_username,
            message.client_id,
            message.body,
            message.created_at.isoformat(),
        ),
    )
    return AppendResult(message, created=True)


class SQLiteChatLog(SQLChatLog):
    """Chat log in a SQLite file (or ":memory:", private to this instance)."""

    _BY_CLIENT_ID, _BY_SEQ, _AFTER, _BEFORE, _NEWEST = _BY_CLIENT_ID, _BY_SEQ, _AFTER, _BEFORE, _NEWEST
    _SELECT, _PARAM = _select_where("").rstrip(), "?"
    # SQLite's lower() folds ASCII only: good enough for the embedded store.
    _AUTHOR_IS = "lower(author_username) = lower(?)"
    _BODY_CONTAINS = "body IS NOT NULL AND instr(lower(body), lower(?)) > 0"

    def __init__(self, *, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._appends = GroupCommit(self._append_batch)

    def _connect(self) -> sqlite3.Connection:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are opened explicitly where they matter.
        conn = sqlite3.connect(
            self._path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            # Explicit, not a build's default: a commit (and so an acknowledgement) waits for fsync.
            conn.execute("PRAGMA synchronous = FULL")
            if self._path != ":memory:":
                _enable_wal(conn)
            conn.execute(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        return conn

    def _locked_call(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            if self._closed:
                raise ChatLogUnavailable("chat log is closed")
            try:
                if self._conn is None:
                    self._conn = self._connect()
                return fn(self._conn)
            except _STORE_ERRORS as error:
                raise ChatLogUnavailable(f"chat log store error: {error}") from error

    async def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        return await asyncio.to_thread(self._locked_call, fn)

    def _append_batch(self, requests: list[AppendRequest]) -> list[AppendResult | Exception]:
        def append_batch(conn: sqlite3.Connection) -> list[AppendResult | Exception]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                outcomes = apply_each(requests, lambda request: _append_one(conn, request), store_errors=_STORE_ERRORS)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return outcomes

        return self._locked_call(append_batch)

    async def _fetch(self, sql: str, params: tuple) -> list[StoredMessage]:
        def fetch(conn: sqlite3.Connection) -> list[StoredMessage]:
            return [_to_message(row) for row in conn.execute(sql, params).fetchall()]

        return await self._run(fetch)

    async def last_seq(self, *, room_id: int) -> int:
        return await self._run(lambda conn: conn.execute(_MAX_SEQ, (room_id,)).fetchone()[0])

    async def delete(self, *, room_id: int, seq: int) -> StoredMessage | None:
        def delete(conn: sqlite3.Connection) -> StoredMessage | None:
            # The `deleted_at IS NULL` guard keeps a tombstone's first deleted_at.
            conn.execute(_TOMBSTONE, (_now().isoformat(), room_id, seq))
            row = conn.execute(_BY_SEQ, (room_id, seq)).fetchone()
            return _to_message(row) if row else None

        return await self._run(delete)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await super().close()

        def close() -> None:
            with self._lock:
                self._closed = True
                conn, self._conn = self._conn, None
                if conn is not None:
                    conn.close()

        await asyncio.to_thread(close)
