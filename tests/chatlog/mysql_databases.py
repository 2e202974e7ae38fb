"""Throwaway MariaDB databases for the chat-log tests, on the server of the suite's DATABASE_URL.

scripts/test's user may create only databases named `test_chat_*`: each test gets a fresh
`test_chat_log_<random>` (creating and dropping one takes a few milliseconds).
"""

from __future__ import annotations

import os
import uuid
from contextlib import closing
from urllib.parse import urlsplit, urlunsplit

import MySQLdb
import pytest

from chatproject.env import MYSQL_COLLATION, is_mysql_url
from messages.chatlog.mysql_connections import connect_args

_DATABASE_URL = os.environ.get("DATABASE_URL", "")
MYSQL_URL = _DATABASE_URL if is_mysql_url(_DATABASE_URL) else None
NO_MYSQL = "DATABASE_URL is not a mysql:// URL: no MariaDB to test against"
# The "mysql" backend parameter of the chat-log tests.
MYSQL = pytest.param("mysql", marks=pytest.mark.skipif(not MYSQL_URL, reason=NO_MYSQL))


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def admin_connection() -> MySQLdb.Connection:
    """A connection to the test server with no database selected."""
    assert MYSQL_URL is not None
    args = connect_args(MYSQL_URL)
    del args["database"]
    return MySQLdb.connect(**args)


def create_database() -> str:
    """A new, empty database; returns its URL."""
    assert MYSQL_URL is not None
    name = f"test_chat_log_{uuid.uuid4().hex[:12]}"
    with closing(admin_connection()) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE {MYSQL_COLLATION}")
    return _with_database(MYSQL_URL, name)


def drop_database(url: str) -> None:
    name = urlsplit(url).path.strip("/")
    with closing(admin_connection()) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
