"""Start daphne processes that share this test run's MariaDB database, Redis and chat log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from tests.support.processes import DaphneProcess


def server_env(**overrides: str) -> dict[str, str]:
    db = connection.settings_dict  # the test database, once pytest-django has created it
    if db["ENGINE"].endswith("mysql"):
        database_url = (
            f"mysql://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 3306}/{db['NAME']}"
        )
    else:
        database_url = f"sqlite:///{db['NAME']}"
    env = {
        "DJANGO_SETTINGS_MODULE": "chatproject.settings.test",
        "DATABASE_URL": database_url,
        "MONGO_URL": settings.CHAT_LOG["MONGO_URL"],
        "MONGO_DB": settings.CHAT_LOG["MONGO_DB"],
        "MONGO_WRITE_CONCERN": str(settings.CHAT_LOG["MONGO_WRITE_CONCERN"]),
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env.update(overrides)
    return env


# The default limit (10 per 10 s) refills a token every second, which a burst of ten sends on a
# busy machine, with the slow stand-in chat log, can outlast. 10 per minute refills every 6 s.
SLOW_REFILL_LIMIT = {"CHAT_RATE_MESSAGES": "10", "CHAT_RATE_WINDOW_SECONDS": "60"}


def start_daphne(name: str, **overrides: str) -> DaphneProcess:
    return DaphneProcess(env=server_env(**overrides), name=name)


@contextmanager
def daphne_pair(prefix: str, **overrides: str) -> Iterator[tuple[DaphneProcess, DaphneProcess]]:
    """Two daphne processes sharing this run's stores, stopped on exit."""
    first = start_daphne(f"{prefix}a", **overrides)
    try:
        second = start_daphne(f"{prefix}b", **overrides)
    except Exception:
        first.stop()
        raise
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()
