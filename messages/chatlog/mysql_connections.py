"""Connections of the MariaDB/MySQL chat log (mysqlclient blocks: callers are worker threads).

Each call gets a connection of its own, so reads do not wait behind a batch's commit; idle
connections are kept for the next call. A store error becomes `ChatLogUnavailable` and drops
every idle connection, so the log works again on the first call after the server is back.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import MySQLdb

from chatproject.env import database_from_url

from .base import ChatLogUnavailable

_T = TypeVar("_T")

# The store failed, not one statement's values (DataError, IntegrityError, ...).
STORE_ERRORS = (MySQLdb.OperationalError, MySQLdb.InterfaceError, MySQLdb.InternalError)

_CONNECT_TIMEOUT_S = 3
# Bounds a hung server; generous because a slow batch is not an outage.
_READ_WRITE_TIMEOUT_S = 30
# A connection idle for longer may have been closed by the server (wait_timeout, a restart):
# check it before use rather than fail the call.
_CHECK_AFTER_IDLE_S = 10


def connect_args(url: str) -> dict[str, Any]:
    """MySQLdb.connect() arguments for a mysql:// URL, parsed as the ORM parses DATABASE_URL:
    the same charset, collation and strict mode."""
    database = database_from_url(url)
    args = {
        "database": database["NAME"],
        "user": database["USER"],
        "password": database["PASSWORD"],
        **database["OPTIONS"],
        "autocommit": True,  # transactions are opened explicitly where they matter
        "connect_timeout": _CONNECT_TIMEOUT_S,
        "read_timeout": _READ_WRITE_TIMEOUT_S,
        "write_timeout": _READ_WRITE_TIMEOUT_S,
    }
    if database["HOST"].startswith("/"):
        args["unix_socket"] = database["HOST"]
    else:
        args["host"] = database["HOST"] or "localhost"
        if database["PORT"]:
            args["port"] = int(database["PORT"])
    return args


class ConnectionPool:
    """`call(fn)` runs `fn(cursor)` on a connection that no other thread uses meanwhile.

    `setup(cursor)` runs on every new connection before its first use.
    """

    def __init__(self, *, url: str, setup: Callable[[Any], None]) -> None:
        self._connect_args = connect_args(url)
        self._setup = setup
        self._lock = threading.Lock()
        self._idle: list[tuple[MySQLdb.Connection, float]] = []  # with the time each was released
        self._closed = False

    def call(self, fn: Callable[[Any], _T]) -> _T:
        conn = None
        try:
            conn = self._acquire()
            with conn.cursor() as cursor:
                result = fn(cursor)
        except STORE_ERRORS as error:
            # The server failed or went away: the idle connections likely did too.
            if conn is not None:
                _close_quietly(conn)
            self._forget_idle()
            raise ChatLogUnavailable(f"chat log store error: {error}") from error
        except BaseException:
            if conn is not None:
                self._release(conn)
            raise
        self._release(conn)
        return result

    def close(self) -> None:
        """Close the idle connections now and the busy ones when their call ends."""
        with self._lock:
            self._closed = True
        self._forget_idle()

    def _connect(self) -> MySQLdb.Connection:
        conn = MySQLdb.connect(**self._connect_args)
        try:
            with conn.cursor() as cursor:
                self._setup(cursor)
        except BaseException:
            _close_quietly(conn)
            raise
        return conn

    def _acquire(self) -> MySQLdb.Connection:
        with self._lock:
            if self._closed:
                raise ChatLogUnavailable("chat log is closed")
            conn, released_at = self._idle.pop() if self._idle else (None, 0.0)
        if conn is not None and time.monotonic() - released_at > _CHECK_AFTER_IDLE_S:
            try:
                conn.ping()
            except MySQLdb.Error:
                _close_quietly(conn)
                conn = None
        return conn if conn is not None else self._connect()

    def _release(self, conn: MySQLdb.Connection) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append((conn, time.monotonic()))
                return
        _close_quietly(conn)

    def _forget_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            _close_quietly(conn)


def _close_quietly(conn: MySQLdb.Connection) -> None:
    with contextlib.suppress(MySQLdb.Error):
        conn.close()
