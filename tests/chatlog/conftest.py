"""Backends for the chat-log contract suite.

`make_log` builds backend instances inside the test's own event loop (an AsyncMongoClient
is bound to the loop that created it) and closes them there; every instance a test makes
shares that test's fresh, empty store, so two instances act like two processes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from messages.chatlog.base import ChatLog
from tests.chatlog.append_worker import open_log
from tests.chatlog.mysql_databases import MYSQL, create_database, drop_database
from tests.support.mongoeco_server import start_mongoeco_server

MONGO_URL = os.environ.get("MONGO_URL")

BACKENDS = [
    "sqlite",
    "mongo-wire",
    pytest.param(
        "mongo-real",
        marks=pytest.mark.skipif(not MONGO_URL, reason="MONGO_URL is not set: no real MongoDB to test against"),
    ),
    MYSQL,
]


@pytest.fixture(scope="session")
def chatlog_mongoeco_uri(request: pytest.FixtureRequest) -> Iterator[str]:
    """The suite-wide mongoeco server when the root conftest runs one, else our own."""
    try:
        yield request.getfixturevalue("mongoeco_server").uri
        return
    except pytest.FixtureLookupError:
        pass
    server = start_mongoeco_server()
    yield server.uri
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest, tmp_path) -> Iterator[dict[str, Any]]:
    """This test's fresh, empty store, described in JSON terms (see `open_log`)."""
    if backend == "sqlite":
        yield {"kind": "sqlite", "path": str(tmp_path / "chatlog" / "chat.sqlite3")}
        return
    if backend == "mysql":
        url = create_database()
        yield {"kind": "mysql", "url": url}
        drop_database(url)
        return

    url = request.getfixturevalue("chatlog_mongoeco_uri") if backend == "mongo-wire" else MONGO_URL
    assert url is not None
    db_name = f"test_chatlog_{uuid.uuid4().hex[:12]}"
    write_concern = "majority" if backend == "mongo-real" else 1
    yield {"kind": "mongo", "url": url, "db_name": db_name, "write_concern": write_concern}
    _drop_database(url, db_name)


def _drop_database(url: str, db_name: str) -> None:
    import pymongo  # only for cleanup; the code under test hides pymongo

    with pymongo.MongoClient(url, serverSelectionTimeoutMS=3000) as client:
        client.drop_database(db_name)


@pytest.fixture
async def make_log(store: dict[str, Any]) -> AsyncIterator[Callable[[], ChatLog]]:
    """A function returning a new, unconnected instance on this test's store."""
    made: list[ChatLog] = []

    def make() -> ChatLog:
        log = open_log(store)
        made.append(log)
        return log

    yield make
    for log in made:
        await log.close()


@pytest.fixture
async def log(make_log: Callable[[], ChatLog]) -> ChatLog:
    return make_log()
