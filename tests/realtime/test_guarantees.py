"""The delivery guarantees under failure: store down, lossy channel layer, dead process, logout."""

from __future__ import annotations

import asyncio
import http.cookiejar
import urllib.parse
import urllib.request

import pytest
from asgiref.sync import sync_to_async

from tests.factories import PASSWORD
from tests.realtime.conftest import room_url
from tests.support.http import api
from tests.support.lossy_layer import fate
from tests.support.processes import MongoEcoProcess
from tests.support.ws import ChatClient


async def test_when_the_store_is_down_the_sender_gets_unavailable_and_nobody_sees_the_message(
    servers_with, room, people
):
    store = await sync_to_async(MongoEcoProcess.start)()
    try:
        server = await sync_to_async(servers_with)("store-down", MONGO_URL=store.uri)
        sender = await ChatClient.open(room_url(server, room), token=people[0].token)
        watcher = await ChatClient.open(room_url(server, room), token=people[1].token)
        await sender.post("ok", "stored fine")
        await watcher.messages(1)

        await sync_to_async(store.stop)()
        await sender.send_message("lost?", "the store is down")
        error = await sender.expect("error", timeout=20)
        assert error["code"] == "unavailable" and error["client_id"] == "lost?"
        await watcher.assert_silent(1.0)
        # The socket stays open: the client can retry later with the same client_id.
        await sender.send({"type": "typing", "active": True})
        assert [f["type"] for f in await watcher.frames_within(1.0)] == ["typing"]
        await sender.close()
        await watcher.close()
    finally:
        await sync_to_async(store.stop)()


async def test_the_sender_is_answered_before_the_room_is_told(servers_with, room, people):
    # The ack says "stored"; telling the other processes is the layer's business and may take
    # a while. The sender's own process tells its sockets at once, from memory.
    here = await sync_to_async(servers_with)("held-a", CHAT_TEST_BROADCAST_DELAY="4")
    there = await sync_to_async(servers_with)("held-b", CHAT_TEST_BROADCAST_DELAY="4")
    sender = await ChatClient.open(room_url(here, room), token=people[0].token)
    neighbour = await ChatClient.open(room_url(here, room), token=people[2].token)
    watcher = await ChatClient.open(room_url(there, room), token=people[1].token)
    await asyncio.sleep(0.5)  # the two processes learn that both serve the room
    await sender.send_message("m1", "hello")
    ack = await sender.expect("message.ack", timeout=2)
    assert (await sender.messages(1, timeout=2))[0] == ack["message"]
    assert await neighbour.messages(1, timeout=1) == [ack["message"]]
    await watcher.assert_silent(1)  # the room's copy is still held
    assert await watcher.messages(1, timeout=10) == [ack["message"]]
    await sender.assert_silent(0.5)  # the process's own copy, back from the layer, is dropped there
    for client in (sender, neighbour, watcher):
        await client.close()


async def test_a_dropped_last_message_still_reaches_every_process(servers_with, room, people):
    # No later message will come along to reveal the gap: the hub's tail check must find it.
    assert fate(2) == "drop"
    first = await sync_to_async(servers_with)("lossy-a", CHAT_TEST_LOSSY_LAYER="1")
    second = await sync_to_async(servers_with)("lossy-b", CHAT_TEST_LOSSY_LAYER="1")
    sender = await ChatClient.open(room_url(first, room), token=people[0].token)
    watcher = await ChatClient.open(room_url(second, room), token=people[1].token)
    await sender.post("m1", "first")
    await sender.post("m2", "the last word")  # its broadcast is dropped
    assert [m["seq"] for m in await watcher.messages(2, timeout=10)] == [1, 2]
    await sender.close()
    await watcher.close()


async def test_a_layer_that_drops_and_reorders_messages_never_shows_a_gap(servers_with, room, people):
    assert {fate(seq) for seq in range(1, 31)} == {"drop", "delay", "send"}
    first = await sync_to_async(servers_with)("lossy-a", CHAT_TEST_LOSSY_LAYER="1")
    second = await sync_to_async(servers_with)("lossy-b", CHAT_TEST_LOSSY_LAYER="1")
    clients = [
        await ChatClient.open(room_url((first, second)[i % 2], room), token=user.token) for i, user in enumerate(people)
    ]
    try:
        receivers = [asyncio.create_task(_message_seqs(client, 30)) for client in clients]
        for n in range(30):  # round-robin senders; the 30th (seq 30) is not dropped
            await clients[n % len(clients)].send_message(f"m{n}", f"message {n}")
            await asyncio.sleep(0.02)
        for seqs in await asyncio.gather(*receivers):
            assert seqs == list(range(1, 31))
    finally:
        for client in clients:
            await client.close()


async def _message_seqs(client: ChatClient, count: int) -> list[int]:
    seqs = []
    while len(seqs) < count:
        frame = await client.next_frame(timeout=15)
        if frame["type"] == "message.new":
            seqs.append(frame["message"]["seq"])
        else:
            assert frame["type"] == "message.ack", frame
    await asyncio.sleep(DELAY_TAIL := 0.5)  # a late (delayed) copy must not show up twice
    return seqs + [f["message"]["seq"] for f in await client.frames_within(DELAY_TAIL) if f["type"] == "message.new"]


@pytest.mark.slow
async def test_presence_heals_when_a_process_dies(servers_with, room, people):
    doomed = await sync_to_async(servers_with)("doomed", CHAT_PRESENCE_TTL_SECONDS="5")
    survivor = await sync_to_async(servers_with)("survivor", CHAT_PRESENCE_TTL_SECONDS="5")
    ghost = await ChatClient.open(room_url(doomed, room), token=people[0].token)
    watcher = await ChatClient.open(room_url(survivor, room), token=people[1].token)
    await watcher.presence_becomes({people[0].username, people[1].username})
    await sync_to_async(doomed.kill)()  # no disconnect handler runs: its entries must expire
    await watcher.presence_becomes({people[1].username}, timeout=15)
    await watcher.close()
    del ghost


async def test_logging_out_closes_the_sockets_of_that_session(server_a, server_b, room, people):
    user = people[0]
    opener = await sync_to_async(_logged_in_opener)(server_a, user.username)
    cookie = "; ".join(f"{c.name}={c.value}" for c in opener.cookiejar)
    socket = await ChatClient.open(room_url(server_b, room), cookie=cookie, origin=server_b.http_url)
    other_session = await ChatClient.open(room_url(server_b, room), token=user.token)  # a bot of the same user
    await sync_to_async(_post_form)(opener, f"{server_a.http_url}/accounts/logout/", {})
    assert await socket.close_code() == 4001
    await other_session.post("still", "the token socket stays")
    await other_session.close()


async def test_revoking_a_token_closes_the_sockets_opened_with_it_on_every_process(server_a, server_b, room, people):
    user = people[0]
    bots = [await ChatClient.open(room_url(server, room), token=user.token) for server in (server_a, server_b)]
    opener = await sync_to_async(_logged_in_opener)(server_a, user.username)
    cookie = "; ".join(f"{c.name}={c.value}" for c in opener.cookiejar)
    browser = await ChatClient.open(room_url(server_b, room), cookie=cookie, origin=server_b.http_url)

    status, _ = await sync_to_async(api)(server_a, "DELETE", "/api/auth/token/revoke/", token=user.token)
    assert status == 204
    assert [await bot.close_code() for bot in bots] == [4001, 4001]
    again = await ChatClient.open(room_url(server_a, room), token=user.token, expect_hello=False)
    assert await again.close_code() == 4401  # the revoked token opens nothing more
    assert (await browser.post("still", "the browser session stays"))["body"] == "the browser session stays"
    await browser.close()


async def test_deactivating_a_user_closes_all_their_sockets_and_they_cannot_come_back(server_a, server_b, room, people):
    user, other = people[0], people[1]
    sockets = [await ChatClient.open(room_url(server, room), token=user.token) for server in (server_a, server_b)]
    bystander = await ChatClient.open(room_url(server_a, room), token=other.token)

    user.is_active = False
    await user.asave(update_fields=["is_active"])
    assert [await socket.close_code() for socket in sockets] == [4001, 4001]
    late = await ChatClient.open(room_url(server_a, room), token=user.token, expect_hello=False)
    assert await late.close_code() == 4401
    assert (await bystander.post("still", "others stay"))["body"] == "others stay"
    await bystander.close()


def _logged_in_opener(server, username: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.cookiejar = jar
    opener.open(f"{server.http_url}/accounts/login/").read()
    _post_form(opener, f"{server.http_url}/accounts/login/", {"username": username, "password": PASSWORD})
    assert any(c.name == "sessionid" for c in jar)
    return opener


def _post_form(opener, url: str, fields: dict) -> None:
    token = next(c.value for c in opener.cookiejar if c.name == "csrftoken")
    data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(url, data=data, headers={"Referer": url, "X-CSRFToken": token})
    opener.open(request).read()
