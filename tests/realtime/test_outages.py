"""What people see when a backing server is down: a clear error, never a 500 or a lost message."""

from __future__ import annotations

from asgiref.sync import sync_to_async

from tests.factories import PASSWORD, RoomFactory, UserFactory, token_for
from tests.realtime.conftest import room_url
from tests.support.http import api
from tests.support.processes import free_port
from tests.support.ws import ChatClient


async def test_with_redis_down_a_socket_gets_unavailable_and_sign_up_still_works(servers_with, transactional_db):
    room = await sync_to_async(RoomFactory)()
    user = await sync_to_async(UserFactory)()
    token = await sync_to_async(token_for)(user)
    server = await sync_to_async(servers_with)("redis-down", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    client = await ChatClient.open(room_url(server, room), token=token, expect_hello=False)
    error = await client.expect("error", timeout=20)
    assert error["code"] == "unavailable"
    assert await client.close_code(timeout=20) == 4503

    status, body = await sync_to_async(api)(
        server, "POST", "/api/auth/signup/", body={"username": "newbie", "password": PASSWORD}
    )
    assert status == 201 and body["token"]
    status, body = await sync_to_async(api)(server, "GET", "/readyz")
    assert status == 503 and body["checks"]["redis"].startswith("unavailable")


def test_readiness_reports_each_store(servers_with, transactional_db):
    healthy = servers_with("healthy")
    assert api(healthy, "GET", "/healthz") == (200, {"status": "ok"})
    assert api(healthy, "GET", "/readyz") == (
        200,
        {"status": "ok", "checks": {"database": "ok", "chat_log": "ok", "redis": "ok"}},
    )
    no_log = servers_with("no-chat-log", MONGO_URL=f"mongodb://127.0.0.1:{free_port()}/")
    status, body = api(no_log, "GET", "/readyz")
    assert status == 503 and body["checks"]["chat_log"].startswith("unavailable") and body["checks"]["database"] == "ok"
