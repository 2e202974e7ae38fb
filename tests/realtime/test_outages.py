"""What people see when a backing server is down: a clear error, never a 500 or a lost message."""

from __future__ import annotations

import asyncio

import redis.asyncio as redis
from asgiref.sync import sync_to_async

from tests.factories import PASSWORD, RoomFactory, UserFactory, token_for
from tests.realtime.conftest import room_url
from tests.support.http import api
from tests.support.processes import RedisProcess, free_port
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


async def test_after_redis_restarts_messages_cross_processes_live_again(servers_with, room, people):
    # Pub/sub keeps nothing across a restart: each process must subscribe to its rooms again.
    # Without that, the hub's tail check would still bring a message round within ~4 s; live
    # delivery is what this checks.
    private_redis = await sync_to_async(RedisProcess.started)()
    try:
        first = await sync_to_async(servers_with)("redis-restart-a", REDIS_URL=private_redis.url)
        second = await sync_to_async(servers_with)("redis-restart-b", REDIS_URL=private_redis.url)
        sender = await ChatClient.open(room_url(first, room), token=people[0].token)
        watcher = await ChatClient.open(room_url(second, room), token=people[1].token)
        await sender.post("m1", "before the restart")
        assert [m["seq"] for m in await watcher.messages(1)] == [1]

        await sync_to_async(private_redis.restart)()
        await _until_both_processes_subscribed(private_redis.url, room.pk)
        await sender.post("m2", "after the restart")
        assert [m["seq"] for m in await watcher.messages(1, timeout=1.5)] == [2]
        await sender.close()
        await watcher.close()
    finally:
        await sync_to_async(private_redis.stop)()


async def _until_both_processes_subscribed(url: str, room_id: int) -> None:
    client = redis.Redis.from_url(url)
    try:
        for _ in range(200):
            channels = [c for c in await client.pubsub_channels() if c.endswith(f"room.{room_id}".encode())]
            if channels and dict(await client.pubsub_numsub(*channels)).get(channels[0]) == 2:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the processes did not subscribe to the room again within 10 s")
    finally:
        await client.aclose()
