"""STOMP over real sockets against real daphne processes (docs/stomp.md), byte by byte."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.utils import timezone

from rooms.models import Membership
from tests.factories import RoomFactory, UserFactory, token_for
from tests.realtime.conftest import room_url
from tests.realtime.test_guarantees import _logged_in_opener, _post_form
from tests.stomp.conftest import stomp_url
from tests.support.http import api
from tests.support.servers import SLOW_REFILL_LIMIT
from tests.support.stomp import StompClient
from tests.support.ws import ChatClient


async def _connected(server, user, **headers) -> StompClient:
    client = await StompClient.open(stomp_url(server))
    await client.connect(login=user.username, passcode=user.token, **headers)
    return client


async def _last_seq(server, room, user) -> int:
    """What the log holds, as a JSON client is told on connecting."""
    client = await ChatClient.open(room_url(server, room), token=user.token)
    await client.close()
    return client.hello["last_seq"]


# --- handshake and CONNECT -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (("v10.stomp", "v11.stomp", "v12.stomp"), "v12.stomp"),
        (("v11.stomp", "v10.stomp"), "v11.stomp"),
        (("v10.stomp",), "v10.stomp"),
        (None, None),  # stomp.py offers none
        (("mqtt",), None),
    ],
)
async def test_the_best_stomp_subprotocol_is_chosen(server_a, alice, offered, chosen):
    client = await StompClient.open(stomp_url(server_a), subprotocols=offered)
    assert client.subprotocol == chosen
    await client.connect(login="alice", passcode=alice.token)
    await client.close()


async def test_connected_names_version_heartbeat_server_and_user(server_a, alice):
    client = await StompClient.open(stomp_url(server_a))
    connected = await client.connect(login="alice", passcode=alice.token, heart_beat="0,0")
    assert connected.header("version") == "1.2"
    assert connected.header("heart-beat") == "1000,1000"
    assert connected.header("server").startswith("chat-stomp/")
    assert connected.header("user-name") == "alice"
    await client.close()


@pytest.mark.parametrize(
    ("accept_version", "version"),
    [("1.2", "1.2"), ("1.1", "1.1"), ("1.0,1.1", "1.1"), ("1.2,2.0", "1.2"), (None, "1.0")],
)
async def test_the_highest_common_version_is_chosen(server_a, alice, accept_version, version):
    client = await StompClient.open(stomp_url(server_a))
    headers = {"login": "alice", "passcode": alice.token}
    if accept_version:
        headers["accept-version"] = accept_version
    await client.send_frame("CONNECT", headers)
    assert (await client.expect("CONNECTED")).header("version") == version
    await client.close()


async def test_a_version_in_common_with_nothing_is_an_error(server_a, alice):
    client = await StompClient.open(stomp_url(server_a))
    await client.send_frame("CONNECT", {"accept-version": "2.0,3.1", "login": "alice", "passcode": alice.token})
    error, code = await client.error_and_close()
    assert error.header("message") == "unsupported_version" and error.header("version") == "1.0,1.1,1.2"
    assert code == 4400


async def test_stomp_is_a_synonym_of_connect(server_a, alice):
    client = await StompClient.open(stomp_url(server_a))
    await client.send_frame("STOMP", {"accept-version": "1.2", "host": "x", "login": "alice", "passcode": alice.token})
    await client.expect("CONNECTED")
    await client.close()


@pytest.mark.parametrize(
    "case", ["anonymous", "unknown passcode", "passcode of another user", "passcode without login", "bad header token"]
)
async def test_who_cannot_sign_in_gets_an_error_and_4401(server_a, alice, bob, case):
    token, headers = None, {}
    match case:
        case "unknown passcode":
            headers = {"login": "alice", "passcode": "nope"}
        case "passcode of another user":
            headers = {"login": "alice", "passcode": bob.token}
        case "passcode without login":
            headers = {"passcode": alice.token}
        case "bad header token":
            token = "wrong"
    client = await StompClient.open(stomp_url(server_a), token=token)
    await client.send_frame("CONNECT", {"accept-version": "1.2", **headers})
    error, code = await client.error_and_close()
    assert error.header("message") == "unauthenticated" and error.body
    assert code == 4401


async def test_signing_in_with_the_header_token_or_the_session_cookie(server_a, alice, bob):
    by_header = await StompClient.open(stomp_url(server_a), token=alice.token)
    assert (await by_header.connect()).header("user-name") == "alice"
    await by_header.close()

    opener = await sync_to_async(_logged_in_opener)(server_a, "bob")
    cookie = "; ".join(f"{c.name}={c.value}" for c in opener.cookiejar)
    by_cookie = await StompClient.open(stomp_url(server_a), cookie=cookie, origin=server_a.http_url)
    assert (await by_cookie.connect()).header("user-name") == "bob"
    # Logging that session out ends the connection, as it ends the session's room sockets.
    await sync_to_async(_post_form)(opener, f"{server_a.http_url}/accounts/logout/", {})
    error, code = await by_cookie.error_and_close()
    assert error.header("message") == "session_ended" and code == 4001


async def test_revoking_the_token_ends_a_connection_signed_in_with_it_as_passcode(server_a, alice):
    client = await StompClient.open(stomp_url(server_a))
    await client.connect(login="alice", passcode=alice.token)
    status, _ = await sync_to_async(api)(server_a, "DELETE", "/api/auth/token/revoke/", token=alice.token)
    assert status == 204
    error, code = await client.error_and_close()
    assert error.header("message") == "session_ended" and code == 4001


async def test_a_passcode_decides_over_the_handshake_user(server_a, alice, bob):
    client = await StompClient.open(stomp_url(server_a), token=bob.token)
    assert (await client.connect(login="alice", passcode=alice.token)).header("user-name") == "alice"
    await client.close()


async def test_a_cookie_without_origin_is_refused_at_the_handshake(server_a):
    with pytest.raises(websockets.InvalidStatus) as refused:
        await StompClient.open(stomp_url(server_a), cookie="sessionid=whatever")
    assert refused.value.response.status_code == 403
    with pytest.raises(websockets.InvalidStatus):
        await StompClient.open(stomp_url(server_a), origin="https://evil.example")


@pytest.mark.parametrize(
    "frame",
    [
        "SEND\ndestination:/app/rooms.x\n\nhi\0",
        "SUBSCRIBE\nid:0\ndestination:/topic/rooms.x\n\n\0",
        "CONNECTED\nversion:1.2\n\n\0",
    ],
)
async def test_anything_before_connect_is_an_error(server_a, frame):
    client = await StompClient.open(stomp_url(server_a))
    await client.send_raw(frame)
    error, code = await client.error_and_close()
    assert error.header("message") in {"invalid_frame", "unknown_command"} and code == 4400


async def test_disconnect_is_answered_with_its_receipt_then_the_close(server_a, alice):
    client = await _connected(server_a, alice)
    await client.send_frame("DISCONNECT", {"receipt": "bye"})
    assert (await client.expect("RECEIPT")).header("receipt-id") == "bye"
    assert await client.close_code() == 1000


# --- SUBSCRIBE ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message", "close"),
    [
        ("no such room", "not_found", 4404),
        ("private room", "forbidden", 4403),
        ("banned", "forbidden", 4403),
        ("bad destination", "invalid_frame", 4400),
        ("no id", "invalid_frame", 4400),
        ("ack client", "unsupported", 4400),
        ("bad x-after-seq", "invalid_frame", 4400),
        ("bad x-events", "invalid_frame", 4400),
    ],
)
async def test_refused_subscriptions(server_a, alice, transactional_db, case, message, close):
    room = await sync_to_async(RoomFactory)(is_private=case == "private room")
    if case == "banned":
        await Membership.objects.acreate(room=room, user=alice, banned_at=timezone.now())
    headers = {"id": "s1", "destination": f"/topic/rooms.{room.slug}", "receipt": "r1"}
    match case:
        case "no such room":
            headers["destination"] = "/topic/rooms.nope"
        case "bad destination":
            headers["destination"] = f"/queue/{room.slug}"
        case "no id":
            del headers["id"]
        case "ack client":
            headers["ack"] = "client"
        case "bad x-after-seq":
            headers["x-after-seq"] = "-1"
        case "bad x-events":
            headers["x-events"] = "presence,everything"
    client = await _connected(server_a, alice)
    await client.send_frame("SUBSCRIBE", headers)
    error, code = await client.error_and_close()
    assert error.header("message") == message and error.header("receipt-id") == "r1" and error.body
    assert code == close


async def test_a_subscription_id_cannot_be_used_twice(server_a, room, alice):
    client = await _connected(server_a, alice)
    await client.subscribe("same", room.slug)
    await client.send_frame("SUBSCRIBE", {"id": "same", "destination": f"/topic/rooms.{room.slug}"})
    error, code = await client.error_and_close()
    assert error.header("message") == "invalid_frame" and code == 4400


# --- messages both ways ------------------------------------------------------------------------


async def test_a_message_arrives_as_the_json_protocol_message_object(server_a, server_b, room, alice, bob):
    stomp = await _connected(server_a, alice)
    await stomp.subscribe("s1", room.slug)
    json_client = await ChatClient.open(room_url(server_b, room), token=bob.token)
    stored = await json_client.post("c1", "hello, STOMP 👋")
    frame = await stomp.expect("MESSAGE")
    assert frame.header("destination") == f"/topic/rooms.{room.slug}"
    assert frame.header("subscription") == "s1"
    assert frame.header("message-id") == stored["id"] and frame.header("seq") == "1"
    assert frame.header("content-type") == "application/json" and frame.header("type") == "message.new"
    assert frame.header("content-length") == str(len(frame.body))
    assert json.loads(frame.body) == stored
    await stomp.close()
    await json_client.close()


async def test_send_is_stored_then_receipted_then_shown_to_everyone(server_a, server_b, room, alice, bob):
    sender = await _connected(server_a, alice)
    await sender.subscribe("mine", room.slug)
    watcher = await ChatClient.open(room_url(server_b, room), token=bob.token)
    receipt = await sender.post(room.slug, "  stored before shown \n", client_id="k1")
    assert receipt.header("seq") == "1" and receipt.header("message-id")
    [own] = await sender.messages(1, subscription="mine")
    [seen] = await watcher.messages(1)
    assert own == seen
    assert own["id"] == receipt.header("message-id") and own["body"] == "stored before shown"
    assert own["client_id"] == "k1" and own["author"] == {"id": alice.pk, "username": "alice"}
    await sender.close()
    await watcher.close()


async def test_the_receipt_comes_before_the_room_is_told(servers_with, room, alice, bob):
    # As on the JSON endpoint: the RECEIPT says "stored"; telling the other processes may take
    # a while.
    here = await sync_to_async(servers_with)("stomp-held-a", CHAT_TEST_BROADCAST_DELAY="4")
    there = await sync_to_async(servers_with)("stomp-held-b", CHAT_TEST_BROADCAST_DELAY="4")
    sender = await _connected(here, alice)
    await sender.subscribe("mine", room.slug)  # the sender's process serves the room too
    watcher = await ChatClient.open(room_url(there, room), token=bob.token)
    await asyncio.sleep(0.5)  # the two processes learn that both serve the room
    await sender.send_frame("SEND", {"destination": f"/app/rooms.{room.slug}", "receipt": "r1"}, "hello")
    receipt = await sender.expect("RECEIPT", timeout=2)
    assert receipt.header("receipt-id") == "r1" and receipt.header("seq") == "1"
    await watcher.assert_silent(1)  # the room's copy is still held
    [seen] = await watcher.messages(1, timeout=10)
    assert seen["id"] == receipt.header("message-id")
    await sender.close()
    await watcher.close()


async def test_a_resend_with_the_same_client_id_is_stored_once(server_a, room, alice, bob):
    sender = await _connected(server_a, alice)  # not subscribed: it only gets its receipts
    watcher = await _connected(server_a, bob)
    await watcher.subscribe("w", room.slug)
    first = await sender.post(room.slug, "once", client_id="same")
    again = await sender.post(room.slug, "twice?", client_id="same")
    assert again.header("message-id") == first.header("message-id") and again.header("seq") == "1"
    assert [m["body"] for m in await watcher.messages(1)] == ["once"]
    await watcher.assert_silent(0.7)
    # Without a client-id every SEND is a new message.
    await sender.post(room.slug, "no id")
    await sender.post(room.slug, "no id")
    assert [m["seq"] for m in await watcher.messages(2)] == [2, 3]
    await sender.close()
    await watcher.close()


async def test_send_needs_no_subscription_and_a_receipt_is_optional(server_a, room, alice, bob):
    watcher = await ChatClient.open(room_url(server_a, room), token=bob.token)
    sender = await _connected(server_a, alice)
    await sender.send_frame("SEND", {"destination": f"/app/rooms.{room.slug}", "content-type": "text/plain"}, "fire")
    assert (await watcher.messages(1))[0]["body"] == "fire"
    await sender.assert_silent(0.3)
    await sender.close()
    await watcher.close()


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ({"content-type": "application/json"}, '{"body": "hi"}', "invalid_frame"),
        ({}, "   \n ", "invalid_frame"),
        ({}, "y" * 4001, "too_large"),
        ({}, b"\xff\xfe", "invalid_frame"),
        ({"client-id": "x" * 65}, "id too long", "invalid_frame"),
        ({"transaction": "t1"}, "in a transaction", "unsupported"),
        ({"destination": "/topic/rooms.{slug}"}, "to the topic", "invalid_frame"),
        ({"destination": "/app/rooms.nope"}, "nowhere", "not_found"),
    ],
)
async def test_refused_sends_get_an_error_and_store_nothing(server_a, room, alice, headers, body, message):
    client = await _connected(server_a, alice)
    headers = {"destination": f"/app/rooms.{room.slug}", "receipt": "r", **headers}
    headers["destination"] = headers["destination"].format(slug=room.slug)
    await client.send_frame("SEND", headers, body)
    error, code = await client.error_and_close()
    assert error.header("message") == message and error.header("receipt-id") == "r" and error.body
    assert code in {4400, 4404}
    assert await _last_seq(server_a, room, alice) == 0


async def test_over_the_rate_limit_the_send_is_refused_with_retry_after_and_nothing_is_lost(servers_with, room, alice):
    server = await sync_to_async(servers_with)("stomp-slow-refill", **SLOW_REFILL_LIMIT)
    client = await _connected(server, alice)
    for n in range(10):
        await client.post(room.slug, f"burst {n}", client_id=f"b{n}")
    await client.send_frame(
        "SEND", {"destination": f"/app/rooms.{room.slug}", "client-id": "b10", "receipt": "r10"}, "one too many"
    )
    error, code = await client.error_and_close()
    assert error.header("message") == "rate_limited" and error.header("receipt-id") == "r10"
    assert error.header("client-id") == "b10" and float(error.header("retry-after")) > 0
    assert code == 4429
    assert await _last_seq(server, room, alice) == 10
    # The client reconnects, waits, and resends with the same client-id: stored once.
    await asyncio.sleep(float(error.header("retry-after")))
    again = await _connected(server, alice)
    assert (await again.post(room.slug, "one too many", client_id="b10")).header("seq") == "11"
    await again.close()


async def test_one_connection_follows_several_rooms_each_in_order(server_a, server_b, alice, bob, transactional_db):
    first, second = await sync_to_async(RoomFactory)(), await sync_to_async(RoomFactory)()
    client = await _connected(server_a, alice)
    await client.subscribe("one", first.slug)
    await client.subscribe("two", second.slug)
    await client.subscribe("one-again", first.slug)
    other = await _connected(server_b, bob)
    for n in range(3):
        await other.post(first.slug, f"first {n}")
        await other.post(second.slug, f"second {n}")
    received: dict[str, list[int]] = {"one": [], "two": [], "one-again": []}
    for _ in range(9):
        frame = await client.expect("MESSAGE")
        message = json.loads(frame.body)
        assert message["room"] == (second.slug if frame.header("subscription") == "two" else first.slug)
        received[frame.header("subscription")].append(message["seq"])
    assert received == {"one": [1, 2, 3], "two": [1, 2, 3], "one-again": [1, 2, 3]}

    await client.send_frame("UNSUBSCRIBE", {"id": "one", "receipt": "u"})
    assert (await client.expect("RECEIPT")).header("receipt-id") == "u"
    await other.post(first.slug, "after unsubscribing one")
    [message] = await client.messages(1, subscription="one-again")
    assert message["seq"] == 4
    await client.assert_silent(0.5)
    await client.close()
    await other.close()


async def test_headers_are_escaped_both_ways_in_1_2(server_a, room, alice, bob):
    client = await _connected(server_a, alice)
    await client.send_raw(f"SUBSCRIBE\nid:a\\cb\\\\c\\nd\ndestination:/topic/rooms.{room.slug}\nreceipt:r\\c1\n\n\0")
    assert (await client.expect("RECEIPT")).header("receipt-id") == "r:1"
    sender = await _connected(server_a, bob)
    await sender.post(room.slug, "escaped")
    await sender.close()
    frame = await client.expect("MESSAGE")
    assert frame.header("subscription") == "a:b\\c\nd"  # unescaped by our parser from the wire's a\cb\\c\nd
    await client.close()


async def test_a_1_0_client_subscribes_without_an_id(server_a, room, alice, bob):
    client = await StompClient.open(stomp_url(server_a), subprotocols=("v10.stomp",))
    await client.send_frame("CONNECT", {"login": "alice", "passcode": alice.token})
    assert (await client.expect("CONNECTED")).header("version") == "1.0"
    client.version = "1.0"
    destination = f"/topic/rooms.{room.slug}"
    await client.send_frame("SUBSCRIBE", {"destination": destination, "receipt": "r"})
    await client.expect("RECEIPT")
    sender = await _connected(server_a, bob)
    await sender.post(room.slug, "for 1.0")
    await sender.close()
    frame = await client.expect("MESSAGE")
    assert frame.header("subscription") == destination and json.loads(frame.body)["body"] == "for 1.0"
    await client.close()


async def test_x_after_seq_replays_then_says_done_then_goes_live(server_a, room, alice, bob):
    sender = await _connected(server_a, bob)
    for n in range(3):
        await sender.post(room.slug, f"before {n}")
    client = await _connected(server_a, alice)
    await client.send_frame(
        "SUBSCRIBE", {"id": "s", "destination": f"/topic/rooms.{room.slug}", "x-after-seq": "1", "receipt": "r"}
    )
    assert [m["seq"] for m in await client.messages(2, subscription="s")] == [2, 3]
    done = await client.expect("MESSAGE")
    assert done.header("type") == "resume.done" and json.loads(done.body) == {"type": "resume.done", "last_seq": 3}
    assert (await client.expect("RECEIPT")).header("receipt-id") == "r"
    await sender.post(room.slug, "live")
    assert [m["seq"] for m in await client.messages(1)] == [4]
    await client.close()
    await sender.close()


async def test_resuming_one_room_is_throttled_but_resuming_many_rooms_at_once_is_not(server_a, alice, transactional_db):
    rooms = [await sync_to_async(RoomFactory)() for _ in range(4)]
    client = await _connected(server_a, alice)
    for room in rooms:  # a client reconnecting to four rooms
        await client.send_frame(
            "SUBSCRIBE", {"id": room.slug, "destination": f"/topic/rooms.{room.slug}", "x-after-seq": "0"}
        )
        assert (await client.expect("MESSAGE")).header("type") == "resume.done"
    for n in range(2):
        await client.send_frame(
            "SUBSCRIBE", {"id": f"again{n}", "destination": f"/topic/rooms.{rooms[0].slug}", "x-after-seq": "0"}
        )
        assert (await client.expect("MESSAGE")).header("type") == "resume.done"
    await client.send_frame(
        "SUBSCRIBE", {"id": "too-many", "destination": f"/topic/rooms.{rooms[0].slug}", "x-after-seq": "0"}
    )
    error, code = await client.error_and_close()
    assert error.header("message") == "rate_limited" and float(error.header("retry-after")) > 0
    assert code == 4429


async def test_deletions_always_come_presence_and_typing_when_asked(server_a, room, alice, bob):
    owner_token = await sync_to_async(token_for)(room.created_by)
    chatty = await _connected(server_a, alice)
    await chatty.subscribe("chatty", room.slug, x_events="presence,typing")
    presence = await chatty.expect("MESSAGE")  # alice arrived: the subscription counts as online
    assert presence.header("type") == "presence" and presence.header("subscription") == "chatty"
    assert json.loads(presence.body)["online"] == [{"id": alice.pk, "username": "alice"}]
    plain = await _connected(server_a, alice)
    await plain.subscribe("plain", room.slug)

    typist = await ChatClient.open(room_url(server_a, room), token=bob.token)
    assert (await chatty.expect("MESSAGE")).header("type") == "presence"  # bob came
    await typist.send({"type": "typing", "active": True})
    typing = await chatty.expect("MESSAGE")
    assert typing.header("type") == "typing" and json.loads(typing.body)["user"]["username"] == "bob"

    stored = await typist.post("gone", "soon deleted")
    for client in (plain, chatty):
        assert (await client.messages(1))[0]["id"] == stored["id"]
    status, _ = await sync_to_async(api)(server_a, "DELETE", f"/api/rooms/{room.slug}/messages/1/", owner_token)
    assert status in {200, 204}
    for client in (plain, chatty):
        deleted = await client.expect("MESSAGE")
        assert deleted.header("type") == "message.deleted" and deleted.header("seq") == "1"
        assert json.loads(deleted.body) == {"type": "message.deleted", "id": stored["id"], "seq": 1}
    await plain.assert_silent(0.5)  # and no presence or typing for the plain one
    for client in (plain, chatty, typist):
        await client.close()


async def test_a_ban_ends_the_connection_with_forbidden(server_a, server_b, room, alice):
    owner_token = await sync_to_async(token_for)(room.created_by)
    client = await _connected(server_b, alice)
    await client.subscribe("s", room.slug)
    status, _ = await sync_to_async(api)(
        server_a, "POST", f"/api/rooms/{room.slug}/members/alice/ban/", owner_token, {}
    )
    assert status in {200, 201, 204}
    error, code = await client.error_and_close()
    assert error.header("message") == "forbidden" and room.slug in error.body.decode()
    assert code == 4403


async def test_a_room_made_private_ends_an_outsiders_connection(server_a, room, alice):
    from django.test import Client

    owner = room.created_by
    owner.token = await sync_to_async(token_for)(owner)
    member = await _connected(server_a, owner)
    await member.subscribe("s", room.slug)
    outsider = await _connected(server_a, alice)
    await outsider.subscribe("s", room.slug)

    def make_private():
        staff = UserFactory(is_staff=True, is_superuser=True)
        client = Client()
        client.force_login(staff)
        fields = {"slug": room.slug, "name": room.name, "topic": "", "created_by": room.created_by_id}
        response = client.post(f"/admin/rooms/room/{room.pk}/change/", {**fields, "is_private": "on"})
        assert response.status_code == 302

    await sync_to_async(make_private)()
    error, code = await outsider.error_and_close()
    assert error.header("message") == "forbidden" and code == 4403
    await member.post(room.slug, "the owner stays")
    assert (await member.messages(1))[0]["seq"] == 1
    await member.close()


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("ACK\nid:1\n\n\0", "unsupported"),
        ("BEGIN\ntransaction:t\n\n\0", "unsupported"),
        ("CONNECT\naccept-version:1.2\n\n\0", "invalid_frame"),
        ("UNSUBSCRIBE\nid:never\n\n\0", "invalid_frame"),
    ],
)
async def test_frames_we_do_not_serve_end_the_connection(server_a, alice, frame, message):
    client = await _connected(server_a, alice)
    await client.send_raw(frame)
    error, code = await client.error_and_close()
    assert error.header("message") == message and code == 4400


# --- heart-beats ----------------------------------------------------------------------------


async def test_the_server_sends_heartbeats_when_asked(server_a, alice):
    client = await _connected(server_a, alice, heart_beat="0,1000")
    await client.assert_silent(2.6)  # heart-beats are not frames
    assert client.heartbeats >= 2
    await client.close()


async def test_a_client_that_stops_beating_is_disconnected(server_a, alice):
    beating = await _connected(server_a, alice, heart_beat="1000,0")
    silent = await _connected(server_a, alice, heart_beat="1000,0")
    for _ in range(4):
        await asyncio.sleep(0.8)
        await beating.send_raw("\n")
    error, code = await silent.error_and_close(timeout=3)
    assert error.header("message") == "heartbeat_timeout" and code == 4408
    await beating.send_frame("DISCONNECT", {"receipt": "still here"})
    await beating.expect("RECEIPT")


# --- malformed frames ----------------------------------------------------------------------------

BIG = 16 * 1024


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param("SEND\ndestination:/app/rooms.{slug}\n\nno NUL", "invalid_frame", id="no NUL"),
        pytest.param("SEND\ndestination /app/rooms.{slug}\n\nbad header\0", "invalid_frame", id="header without colon"),
        pytest.param("SEND\ndestination:/app/rooms.{slug}\nx:\\t\n\nbad escape\0", "invalid_frame", id="bad escape"),
        pytest.param("SEND\ndestination:/app/rooms.{slug}\ncontent-length:99\n\nshort\0", "invalid_frame", id="length"),
        pytest.param("PUBLISH\ndestination:/app/rooms.{slug}\n\nunknown\0", "unknown_command", id="unknown command"),
        pytest.param("SEND\ndestination:/app/rooms.{slug}\n\n" + "x" * BIG + "\0", "too_large", id="oversized frame"),
        pytest.param(
            "SEND\ndestination:/app/rooms.{slug}\n" + "h:v\n" * 32 + "\ntoo many headers\0",
            "too_large",
            id="too many headers",
        ),
        pytest.param(
            "SEND\ndestination:/app/rooms.{slug}\nh:" + "v" * 1100 + "\n\nlong header\0",
            "too_large",
            id="header too long",
        ),
        pytest.param(b"SEND\ndestination:/app/rooms.{slug}\nh:\xff\n\nnot UTF-8\0", "invalid_frame", id="not UTF-8"),
    ],
)
async def test_malformed_frames_get_an_error_and_a_close_and_store_nothing(server_a, room, alice, payload, message):
    client = await _connected(server_a, alice)
    if isinstance(payload, bytes):
        await client.send_raw(payload.replace(b"{slug}", room.slug.encode()))
    else:
        await client.send_raw(payload.replace("{slug}", room.slug))
    error, code = await client.error_and_close()
    assert error.header("message") == message and error.body
    assert code == 4400
    assert await _last_seq(server_a, room, alice) == 0


@pytest.mark.slow
async def test_a_socket_that_never_connects_is_closed(server_a):
    client = await StompClient.open(stomp_url(server_a))
    error, code = await client.error_and_close(timeout=15)
    assert error.header("message") == "heartbeat_timeout" and code == 4408
