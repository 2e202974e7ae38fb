"""Production settings pass Django's deployment checklist and refuse to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

from tests.support.servers import server_env

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "chatproject.settings.production",
    "DJANGO_SECRET_KEY": "x" * 30 + "a-long-random-production-secret-key-0123456789",
    "DJANGO_ALLOWED_HOSTS": "chat.example.com",
    "DATABASE_URL": "mysql://chat:secret@db.internal:3306/chat",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "MONGO_URL": "mongodb://mongo.internal:27017/",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "MONGO_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings(db):
    # Django's checks connect to the database (MySQL field checks read the server version),
    # so this one points production settings at the test run's real MariaDB database.
    env = {**PRODUCTION_ENV, "DATABASE_URL": server_env()["DATABASE_URL"]}
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_the_embedded_stores():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "MONGO_URL"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "MONGO_URL" in result.stderr
