"""Health checks for load balancers and orchestrators (docs/operations.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from messages.chatlog import run_sync


@never_cache
def live(request):
    """The process answers HTTP."""
    return JsonResponse({"status": "ok"})


@never_cache
def ready(request):
    """Every store this process needs answers: the SQL database, the chat log, Redis."""
    checks = {"database": _database, "chat_log": _chat_log}
    if settings.REDIS_URL:
        checks["redis"] = _redis
    results = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as error:  # a health check reports every failure, whatever it is
            results[name] = f"unavailable: {type(error).__name__}"
    healthy = all(value == "ok" for value in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results}, status=200 if healthy else 503
    )


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _chat_log() -> None:
    run_sync(lambda log: log.ping(), timeout=5)


def _redis() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
