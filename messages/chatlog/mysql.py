"""MariaDB/MySQL chat-log backend: mysqlclient in worker threads, with its own connections
(not the ORM's), and its own two tables, created on first use.

`seq` comes from a counter row per room. An append bumps it in its transaction, which locks
that row until commit: appends to one room are serialised across processes, and a rolled-back
append gives its number back with everything else. Appends are group-committed
(batching.py): one transaction, so one redo-log flush, per batch. That flush makes a commit
durable only with the server's default `innodb_flush_log_at_trx_commit = 1`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, TypeVar

import MySQLdb

from chatproject.env import MYSQL_COLLATION

from .base import AppendResult, StoredMessage
from .batching import AppendRequest, GroupCommit, apply_each
from .mysql_connections import STORE_ERRORS, ConnectionPool
from .sql import SQLChatLog

_T = TypeVar("_T")

# How long an append waits for another process's transaction on the same room.
_LOCK_WAIT_TIMEOUT_S = 5

# Primary key (room_id, seq): a room's messages are stored together, in page order.
# client_id is bytes so that the unique key compares it exactly (no case folding, no pad
# space), as the other backends do. The default collation is the ORM's: it tells emoji apart.
_SCHEMA = (
    f"""
    CREATE TABLE IF NOT EXISTS chatlog_messages (
        room_id BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        author_id BIGINT NOT NULL,
        author_username VARCHAR(150) NOT NULL,
        client_id VARBINARY(256) NOT NULL,
        body MEDIUMTEXT NULL,
        created_at DATETIME(3) NOT NULL,
        deleted_at DATETIME(3) NULL,
        PRIMARY KEY (room_id, seq),
        UNIQUE KEY room_author_client (room_id, author_id, client_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={MYSQL_COLLATION}
    """,
    """
    CREATE TABLE IF NOT EXISTS chatlog_room_seqs (
        room_id BIGINT NOT NULL PRIMARY KEY,
        last_seq BIGINT NOT NULL
    ) ENGINE=InnoDB
    """,
)

_COLUMNS = "id, room_id, seq, author_id, author_username, client_id, body, created_at, deleted_at"


def _select_where(where: str) -> str:
    return f"SELECT {_COLUMNS} FROM chatlog_messages {where}"  # noqa: S608 (constants only)


_BY_CLIENT_ID = _select_where("WHERE room_id = %s AND author_id = %s AND client_id = %s")
_BY_SEQ = _select_where("WHERE room_id = %s AND seq = %s")
_AFTER = _select_where("WHERE room_id = %s AND seq > %s ORDER BY seq LIMIT %s")
_BEFORE = _select_where("WHERE room_id = %s AND seq < %s ORDER BY seq DESC LIMIT %s")
_NEWEST = _select_where("WHERE room_id = %s ORDER BY seq DESC LIMIT %s")
_MAX_SEQ = "SELECT COALESCE(MAX(seq), 0) FROM chatlog_messages WHERE room_id = %s"
_INSERT = f"INSERT INTO chatlog_messages ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, NULL)"  # noqa: S608
_TOMBSTONE = (
    "UPDATE chatlog_messages SET body = NULL, deleted_at = %s WHERE room_id = %s AND seq = %s AND deleted_at IS NULL"
)
# LAST_INSERT_ID(expr) sends the new value back with the statement's reply (cursor.lastrowid).
_TAKE_SEQ = (
    "INSERT INTO chatlog_room_seqs (room_id, last_seq) VALUES (%s, LAST_INSERT_ID(1)) "
    "ON DUPLICATE KEY UPDATE last_seq = LAST_INSERT_ID(last_seq + 1)"
)
_GIVE_BACK_SEQ = "UPDATE chatlog_room_seqs SET last_seq = last_seq - 1 WHERE room_id = %s"


def _now() -> datetime:
    # DATETIME(3) keeps milliseconds: truncate so append() returns what a read returns.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _to_db_time(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)  # DATETIME columns hold UTC, naive


def _to_message(row: tuple) -> StoredMessage:
    id_, room_id, seq, author_id, author_username, client_id, body, created_at, deleted_at = row
    return StoredMessage(
        id=id_,
        room_id=room_id,
        seq=seq,
        author_id=author_id,
        author_username=author_username,
        client_id=client_id.decode(),
        body=body,
        created_at=created_at.replace(tzinfo=UTC),
        deleted_at=deleted_at.replace(tzinfo=UTC) if deleted_at else None,
    )


def _fetch_one(cursor: Any, sql: str, params: tuple) -> StoredMessage | None:
    cursor.execute(sql, params)
    row = cursor.fetchone()
    return _to_message(row) if row else None


def _append_one(cursor: Any, request: AppendRequest) -> AppendResult:
    """One append inside the batch's transaction.

    Taking the seq first locks the room's counter row until commit, so that no other
    transaction can store this client_id in this room between the check and the insert.
    """
    cursor.execute(_TAKE_SEQ, (request.room_id,))
    seq = cursor.lastrowid
    try:
        client_id = request.client_id.encode()
        existing = _fetch_one(cursor, _BY_CLIENT_ID, (request.room_id, request.author_id, client_id))
        if existing is None:
            message = StoredMessage(
                id=uuid.uuid4().hex,
                room_id=request.room_id,
                seq=seq,
                author_id=request.author_id,
                author_username=request.author_username,
                client_id=request.client_id,
                body=request.body,
                created_at=_now(),
            )
            cursor.execute(
                _INSERT,
                (
                    message.id,
                    message.room_id,
                    message.seq,
                    message.author_id,
                    message.author_username,
                    client_id,
                    message.body,
                    _to_db_time(message.created_at),
                ),
            )
    except STORE_ERRORS:
        raise
    except Exception:
        cursor.execute(_GIVE_BACK_SEQ, (request.room_id,))  # nothing of a refused append stays
        raise
    if existing is not None:
        cursor.execute(_GIVE_BACK_SEQ, (request.room_id,))
        return AppendResult(existing, created=False)
    return AppendResult(message, created=True)


class MySQLChatLog(SQLChatLog):
    """Chat log in two tables of a MariaDB (>= 10.10, for its collation) or MySQL database."""

    _BY_CLIENT_ID, _BY_SEQ, _AFTER, _BEFORE, _NEWEST = _BY_CLIENT_ID, _BY_SEQ, _AFTER, _BEFORE, _NEWEST
    _SELECT, _PARAM = _select_where("").rstrip(), "%s"
    # Case-insensitive like the other backends, exact otherwise: the lower-cased texts are
    # compared as bytes, not under the accent-insensitive collation.
    _AUTHOR_IS = "CAST(LOWER(author_username) AS BINARY) = CAST(LOWER(%s) AS BINARY)"
    _BODY_CONTAINS = "body IS NOT NULL AND LOCATE(CAST(LOWER(%s) AS BINARY), CAST(LOWER(body) AS BINARY)) > 0"

    def __init__(self, *, url: str) -> None:
        self._connections = ConnectionPool(url=url, setup=self._setup_connection)
        self._schema_ready = False
        self._appends = GroupCommit(self._append_batch)

    def _setup_connection(self, cursor: Any) -> None:
        # Each statement sees what other transactions committed before it: an append that
        # waited for a room's counter lock must see the rows committed meanwhile.
        cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {_LOCK_WAIT_TIMEOUT_S}")
        if not self._schema_ready:
            for statement in _SCHEMA:
                cursor.execute(statement)
            self._schema_ready = True

    async def _run(self, fn: Callable[[Any], _T]) -> _T:
        return await asyncio.to_thread(self._connections.call, fn)

    # --- appends -------------------------------------------------------------------

    def _append_batch(self, requests: list[AppendRequest]) -> list[AppendResult | Exception]:
        # Room by room (each room's appends in arrival order): every process then takes the
        # counter locks in the same order, so two batches never wait for each other in a cycle.
        order = sorted(range(len(requests)), key=lambda index: requests[index].room_id)

        def append_batch(cursor: Any) -> list[AppendResult | Exception]:
            cursor.execute("START TRANSACTION")
            try:
                outcomes = apply_each(
                    [requests[index] for index in order],
                    lambda request: _append_one(cursor, request),
                    store_errors=STORE_ERRORS,
                )
                cursor.connection.commit()
            except BaseException:
                with contextlib.suppress(MySQLdb.Error):
                    cursor.connection.rollback()
                raise
            return [outcome for _, outcome in sorted(zip(order, outcomes, strict=True), key=itemgetter(0))]

        return self._connections.call(append_batch)

    # --- reads and deletes -----------------------------------------------------------

    def _client_id_param(self, client_id: str) -> object:
        return client_id.encode()  # a VARBINARY column: compared exactly

    async def _fetch(self, sql: str, params: tuple) -> list[StoredMessage]:
        def fetch(cursor: Any) -> list[StoredMessage]:
            cursor.execute(sql, params)
            return [_to_message(row) for row in cursor.fetchall()]

        return await self._run(fetch)

    async def last_seq(self, *, room_id: int) -> int:
        def last_seq(cursor: Any) -> int:
            cursor.execute(_MAX_SEQ, (room_id,))
            return int(cursor.fetchone()[0])

        return await self._run(last_seq)

    async def delete(self, *, room_id: int, seq: int) -> StoredMessage | None:
        def delete(cursor: Any) -> StoredMessage | None:
            # The `deleted_at IS NULL` guard keeps a tombstone's first deleted_at.
            cursor.execute(_TOMBSTONE, (_to_db_time(_now()), room_id, seq))
            return _fetch_one(cursor, _BY_SEQ, (room_id, seq))

        return await self._run(delete)

    async def ping(self) -> None:
        await self._run(lambda cursor: cursor.execute("SELECT 1"))

    async def close(self) -> None:
        await super().close()
        await asyncio.to_thread(self._connections.close)
