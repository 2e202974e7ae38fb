"""Which chat-log store the environment chooses (CHAT_LOG_BACKEND, CHAT_LOG_MYSQL_URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_CHAT_LOG = "import json; from django.conf import settings; print(json.dumps(settings.CHAT_LOG))"
ORM_MYSQL_URL = "mysql://chat:orm-secret@db.internal:3306/chat"
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "chatproject.settings.production",
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "chat.example.com",
    "DATABASE_URL": ORM_MYSQL_URL,
    "REDIS_URL": "redis://redis.internal:6379/0",
}


def chat_log_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CHAT_", "DJANGO_", "DATABASE_", "MONGO_"))}
    return subprocess.run(
        [sys.executable, "-c", PRINT_CHAT_LOG],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "chatproject.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def chat_log(**env: str) -> dict:
    result = chat_log_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("env", "backend"),
    [
        ({}, "sqlite"),
        ({"MONGO_URL": "mongodb://m1:27017/"}, "mongo"),
        ({"MONGO_URL": "mongodb://m1:27017/", "CHAT_LOG_BACKEND": "sqlite"}, "sqlite"),
        ({"CHAT_LOG_BACKEND": "mysql", "DATABASE_URL": ORM_MYSQL_URL}, "mysql"),
    ],
)
def test_the_backend_follows_the_environment(env: dict[str, str], backend: str) -> None:
    assert chat_log(**env)["BACKEND"] == backend


def test_mysql_uses_the_orm_database_by_default_or_its_own_url() -> None:
    assert chat_log(CHAT_LOG_BACKEND="mysql", DATABASE_URL=ORM_MYSQL_URL)["MYSQL_URL"] == ORM_MYSQL_URL
    own = "mysql://log:pw@log.internal/chatlog"
    assert chat_log(CHAT_LOG_BACKEND="mysql", DATABASE_URL=ORM_MYSQL_URL, CHAT_LOG_MYSQL_URL=own)["MYSQL_URL"] == own


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"CHAT_LOG_BACKEND": "mysql", "DATABASE_URL": "sqlite:///tmp/db.sqlite3"}, "CHAT_LOG_MYSQL_URL"),
        ({"CHAT_LOG_BACKEND": "mysql", "CHAT_LOG_MYSQL_URL": "postgres://u:top-secret@h/db"}, "CHAT_LOG_MYSQL_URL"),
        ({"CHAT_LOG_BACKEND": "mysql", "CHAT_LOG_MYSQL_URL": "mysql://u:top-secret@h/"}, "CHAT_LOG_MYSQL_URL"),
        ({"CHAT_LOG_BACKEND": "mongo"}, "MONGO_URL"),
        ({"CHAT_LOG_BACKEND": "MySQL"}, "CHAT_LOG_BACKEND"),
    ],
)
def test_a_half_configured_chat_log_stops_start_up(env: dict[str, str], complaint: str) -> None:
    result = chat_log_settings(**env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and complaint in result.stderr
    assert "top-secret" not in result.stderr


def test_production_needs_mongo_url_only_for_mongo() -> None:
    assert chat_log(**PRODUCTION_ENV, CHAT_LOG_BACKEND="mysql")["BACKEND"] == "mysql"
    assert "MONGO_URL" in chat_log_settings(**PRODUCTION_ENV).stderr
    assert "MONGO_URL" in chat_log_settings(**PRODUCTION_ENV, CHAT_LOG_BACKEND="mongo").stderr
