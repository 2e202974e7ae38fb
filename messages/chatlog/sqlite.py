"""Embedded chat-log backend: one SQLite file, no server.

sqlite3 blocks, so every call runs in a worker thread; one connection, guarded by a
lock, serves them all. Cross-process safety comes from SQLite's own file locking:
appends take the write lock up front (`BEGIN IMMEDIATE`), so max(seq)+1 cannot race.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from .base import AppendResult, ChatLog, ChatLogUnavailable, StoredMessage

_T = TypeVar("_T")

# How long a writer waits for another process's transaction before giving up.
_BUSY_TIMEOUT_MS = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_messages (
    id TEXT PRIMARY KEY,
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


def _now() -> datetime:
    # Millisecond precision, like the Mongo backend, so both behave the same.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


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


class SQLiteChatLog(ChatLog):
    """Chat log in a SQLite file (or ":memory:", private to this instance)."""

    def __init__(self, *, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are opened explicitly where they matter.
        conn = sqlite3.connect(
            self._path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            if self._path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
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
            except sqlite3.OperationalError as error:
                raise ChatLogUnavailable(f"chat log store error: {error}") from error

    async def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        return await asyncio.to_thread(self._locked_call, fn)

    async def append(
        self,
        *,
        room_id: int,
        author_id: int,
        author_username: str,
        client_id: str,
        body: str,
    ) -> AppendResult:
        def append(conn: sqlite3.Connection) -> AppendResult:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM chat_messages WHERE room_id = ? AND author_id = ? AND client_id = ?",
                    (room_id, author_id, client_id),
                ).fetchone()
                if row is not None:
                    conn.execute("COMMIT")
                    return AppendResult(_to_message(row), created=False)
                (last,) = conn.execute(
                    "SELECT COALESCE(MAX(seq), 0) FROM chat_messages WHERE room_id = ?", (room_id,)
                ).fetchone()
                message = StoredMessage(
                    id=uuid.uuid4().hex,
                    room_id=room_id,
                    seq=last + 1,
                    author_id=author_id,
                    author_username=author_username,
                    client_id=client_id,
                    body=body,
                    created_at=_now(),
                )
                conn.execute(
                    f"INSERT INTO chat_messages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                    (
                        message.id,
                        room_id,
                        message.seq,
                        author_id,
                        author_username,
                        client_id,
                        body,
                        message.created_at.isoformat(),
                    ),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return AppendResult(message, created=True)

        return await self._run(append)

    async def _select(self, sql: str, params: tuple) -> list[StoredMessage]:
        def select(conn: sqlite3.Connection) -> list[StoredMessage]:
            return [_to_message(row) for row in conn.execute(sql, params).fetchall()]

        return await self._run(select)

    async def page_after(self, *, room_id: int, after_seq: int, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        return await self._select(
            f"SELECT {_COLUMNS} FROM chat_messages WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (room_id, after_seq, limit),
        )

    async def page_before(self, *, room_id: int, before_seq: int | None, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        if before_seq is None:
            newest_first = await self._select(
                f"SELECT {_COLUMNS} FROM chat_messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?",
                (room_id, limit),
            )
        else:
            newest_first = await self._select(
                f"SELECT {_COLUMNS} FROM chat_messages WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                (room_id, before_seq, limit),
            )
        return newest_first[::-1]

    async def find_by_client_id(self, *, room_id: int, author_id: int, client_id: str) -> StoredMessage | None:
        rows = await self._select(
            f"SELECT {_COLUMNS} FROM chat_messages WHERE room_id = ? AND author_id = ? AND client_id = ?",
            (room_id, author_id, client_id),
        )
        return rows[0] if rows else None

    async def get(self, *, room_id: int, seq: int) -> StoredMessage | None:
        rows = await self._select(
            f"SELECT {_COLUMNS} FROM chat_messages WHERE room_id = ? AND seq = ?", (room_id, seq)
        )
        return rows[0] if rows else None

    async def last_seq(self, *, room_id: int) -> int:
        def last_seq(conn: sqlite3.Connection) -> int:
            (last,) = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM chat_messages WHERE room_id = ?", (room_id,)
            ).fetchone()
            return last

        return await self._run(last_seq)

    async def delete(self, *, room_id: int, seq: int) -> StoredMessage | None:
        def delete(conn: sqlite3.Connection) -> StoredMessage | None:
            # One statement: an already-deleted tombstone keeps its first deleted_at.
            conn.execute(
                "UPDATE chat_messages SET body = NULL, deleted_at = ?"
                " WHERE room_id = ? AND seq = ? AND deleted_at IS NULL",
                (_now().isoformat(), room_id, seq),
            )
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM chat_messages WHERE room_id = ? AND seq = ?", (room_id, seq)
            ).fetchone()
            return _to_message(row) if row else None

        return await self._run(delete)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        def close() -> None:
            with self._lock:
                self._closed = True
                conn, self._conn = self._conn, None
                if conn is not None:
                    conn.close()

        await asyncio.to_thread(close)
