"""Fixtures shared by the whole suite: the real servers and a clean slate for each test.

The ORM runs on MariaDB (scripts/test sets DATABASE_URL), the channel layer, rate limits
and presence on Redis (REDIS_URL), and the chat log on a mongoeco MongoDB wire server that
this file starts once per run in its own process.
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings
from django.db import connection

from tests.support.processes import MongoEcoProcess
from tests.support.servers import daphne_pair as two_daphnes
from tests.support.servers import start_daphne

REAL_MONGO_URL = os.environ.get("MONGO_URL")


def pytest_report_header(config):
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    return [
        f"ORM database: {engine} ({settings.DATABASES['default'].get('HOST') or 'local file'})",
        f"channel layer: {layer}; redis: {settings.REDIS_URL or 'none'}",
        f"real MongoDB: {REAL_MONGO_URL or 'not set (MONGO_URL); the mongoeco wire server only'}",
    ]


@pytest.fixture(scope="session")
def mongoeco_server():
    server = MongoEcoProcess.start()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def _session_chat_log(mongoeco_server):
    """Point the app's chat log at the wire server, in a database of this run's own."""
    settings.CHAT_LOG = {
        **settings.CHAT_LOG,
        "BACKEND": "mongo",
        "MONGO_URL": mongoeco_server.uri,
        "MONGO_DB": f"chat_test_{uuid.uuid4().hex[:8]}",
        "MONGO_WRITE_CONCERN": 1,  # as chatproject.env parses MONGO_WRITE_CONCERN=1
    }
    yield


@pytest.fixture(autouse=True)
async def _close_loop_clients():
    """Clients are bound to the test's event loop: close them before the loop goes."""
    yield
    from chatproject.redis_clients import close_redis
    from messages.chatlog import close_chatlogs

    await close_chatlogs()
    await close_redis()


@pytest.fixture(scope="session", autouse=True)
def _close_sync_chatlog():
    yield
    from messages.chatlog import close_sync_chatlog

    close_sync_chatlog()


@pytest.fixture(autouse=True)
def _clean_in_process_state():
    from messages.posting.ratelimit import memory_buckets
    from messages.realtime.presence import memory_presence

    memory_presence.clear()
    memory_buckets.clear()
    yield


@pytest.fixture(scope="session", autouse=True)
def _clean_redis():
    """Forget rate-limit and presence keys left by an earlier run on the same Redis database."""
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match=f"{settings.CHAT_REDIS_PREFIX}:*", count=1000):
            client.delete(key)
        client.close()
    yield


@pytest.fixture
def database_vendor(db) -> str:
    return connection.vendor


# Two daphne processes for a test module; a package can override `daphne_pair` (tests/browser does).
@pytest.fixture(scope="module")
def daphne_pair(django_db_setup, django_db_blocker):
    """Two daphne processes sharing Redis, MariaDB and the chat log, for the whole module.

    Their idle database connections hold no locks (autocommit), so each test's flush of the
    database does not wait on them.
    """
    with django_db_blocker.unblock(), two_daphnes("") as pair:
        yield pair


@pytest.fixture
def server_a(daphne_pair, transactional_db):
    return daphne_pair[0]


@pytest.fixture
def server_b(daphne_pair, transactional_db):
    return daphne_pair[1]


@pytest.fixture
def servers_with(transactional_db):
    """Start daphne processes with extra settings (environment variables); stopped after the test."""
    started = []

    def start(name: str, **env: str):
        server = start_daphne(name, **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
