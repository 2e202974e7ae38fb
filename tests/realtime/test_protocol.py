"""The room protocol over real sockets against a real daphne (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import socket

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.utils import timezone

from messages.realtime import protocol
from rooms.models import Membership
from tests.factories import RoomFactory
from tests.realtime.conftest import room_url
from tests.realtime.test_guarantees import _logged_in_opener
from tests.support.servers import SLOW_REFILL_LIMIT
from tests.support.ws import ChatClient, connect


async def _open(server, room, user, **kwargs) -> ChatClient:
    return await ChatClient.open(room_url(server, room), token=user.token, **kwargs)


# --- handshake: authentication, authorization, origin -------------------------------------


async def test_hello_describes_room_user_and_who_is_online(server_a, room, alice):
    client = await _open(server_a, room, alice)
    try:
        assert client.hello["room"]["slug"] == room.slug
        assert client.hello["user"] == {"id": alice.pk, "username": "alice"}
        assert client.hello["last_seq"] == 0
        assert client.hello["online"] == [{"id": alice.pk, "username": "alice"}]
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("case", "expected_code"),
    [
        ("anonymous", 4401),
        ("bad token", 4401),
        ("no such room", 4404),
        ("private room", 4403),
        ("banned", 4403),
    ],
)
async def test_refused_handshakes_close_with_the_documented_code(
    server_a, alice, transactional_db, case, expected_code
):
    room = await sync_to_async(RoomFactory)(is_private=case == "private room")
    if case == "banned":
        await Membership.objects.acreate(room=room, user=alice, banned_at=timezone.now())
    url = room_url(server_a, room) if case != "no such room" else f"{server_a.ws_url}/ws/rooms/nope/"
    token = {"anonymous": None, "bad token": "wrong"}.get(case, alice.token)
    client = await ChatClient.open(url, token=token, origin=server_a.http_url, expect_hello=False)
    assert await client.close_code() == expected_code


async def test_a_page_on_another_site_cannot_open_a_socket(server_a, room, alice):
    with pytest.raises(websockets.InvalidStatus) as refused:
        await ChatClient.open(room_url(server_a, room), token=alice.token, origin="https://evil.example")
    assert refused.value.response.status_code == 403


async def test_a_token_decides_over_a_session_cookie_that_came_along(server_a, room, alice, bob):
    # The session is not even read when a token comes (accounts.websocket_auth): the token's
    # user, or nobody if the token is wrong, never the session's.
    opener = await sync_to_async(_logged_in_opener)(server_a, "bob")
    cookie = "; ".join(f"{c.name}={c.value}" for c in opener.cookiejar)
    url, origin = room_url(server_a, room), server_a.http_url
    by_session = await ChatClient.open(url, cookie=cookie, origin=origin)
    assert by_session.hello["user"]["username"] == "bob"
    by_token = await ChatClient.open(url, token=alice.token, cookie=cookie, origin=origin)
    assert by_token.hello["user"]["username"] == "alice"
    wrong = await ChatClient.open(url, token="wrong", cookie=cookie, origin=origin, expect_hello=False)
    assert await wrong.close_code() == protocol.CLOSE_UNAUTHENTICATED
    for client in (by_session, by_token):
        await client.close()


async def test_a_cookie_without_origin_is_refused_but_a_token_without_origin_is_fine(server_a, room, alice):
    with pytest.raises(websockets.InvalidStatus):
        await ChatClient.open(room_url(server_a, room), cookie="sessionid=whatever")
    client = await _open(server_a, room, alice)  # no Origin, token header
    await client.close()


# --- sending -----------------------------------------------------------------------------


async def test_send_is_acked_then_shown_to_everyone_with_the_sender_included(server_a, server_b, room, alice, bob):
    sender, other = await _open(server_a, room, alice), await _open(server_b, room, bob)
    try:
        await sender.send_message("m1", "  hello, bob 👋\n  ")
        ack = await sender.expect("message.ack")
        assert ack["client_id"] == "m1"
        message = ack["message"]
        assert message["body"] == "hello, bob 👋" and message["seq"] == 1
        assert message["author"] == {"id": alice.pk, "username": "alice"}
        assert message["created_at"].endswith("Z") and message["room"] == room.slug
        assert (await sender.messages(1))[0] == message
        assert (await other.messages(1))[0] == message
    finally:
        await sender.close()
        await other.close()


async def test_messages_of_every_frame_length_reach_the_sockets_on_the_same_process_intact(server_a, room, alice, bob):
    # The server frames a room message once for all of its sockets (chatproject.shared_frames):
    # short frames, and the 16-bit extended length, up to the largest body there is.
    sender, other, third = [await _open(server_a, room, user) for user in (alice, bob, bob)]
    bodies = ["a", "é" * 40, "x" * 125, "🚀" * 31, "y" * 126, "z" * 4000, "🚀" * 4000]
    try:
        for n, body in enumerate(bodies):
            await sender.post(f"len{n}", body)
        for client in (other, third):
            assert [m["body"] for m in await client.messages(len(bodies))] == bodies
    finally:
        for client in (sender, other, third):
            await client.close()


async def test_a_socket_that_falls_behind_still_gets_every_message_whole_and_in_order(
    servers_with, room, alice, bob, tmp_path
):
    # More than the kernel buffers between the server and a reader that stops reading: the
    # server's writes to it end up partial, and the rest waits in the server's own buffer
    # (chatproject.daphne_server.write_now) until the reader catches up.
    server = await sync_to_async(servers_with)(
        "slow-reader",
        CHAT_RATE_MESSAGES="1000",
        CHAT_LOG_BACKEND="sqlite",
        CHAT_LOG_SQLITE_PATH=str(tmp_path / "chatlog.sqlite3"),
    )
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
    sock.connect(("127.0.0.1", server.port))
    reader = ChatClient(await connect(room_url(server, room), token=bob.token, cookie=None, origin=None, sock=sock,
                                      max_queue=1))  # fmt: skip
    reader.hello = await reader.expect("hello")
    sender = await _open(server, room, alice)
    bodies = [f"{n:03d} " + "🚀" * 3990 for n in range(400)]  # ~16 KB frames, 6.4 MB in all
    try:
        for n, body in enumerate(bodies):
            await sender.post(f"slow{n}", body)
        received = await reader.messages(len(bodies))
        assert [m["body"] for m in received] == bodies
        assert [m["seq"] for m in received] == list(range(1, len(bodies) + 1))
    finally:
        await sender.close()
        await reader.close()


async def test_a_resend_with_the_same_client_id_is_acked_with_the_original_and_not_shown_twice(
    server_a, room, alice, bob
):
    sender, other = await _open(server_a, room, alice), await _open(server_a, room, bob)
    try:
        await sender.send_message("same", "first try")
        original = (await sender.expect("message.ack"))["message"]
        await sender.messages(1)
        await sender.send_message("same", "second try, different text")
        again = await sender.expect("message.ack")
        assert again["message"] == original
        assert await other.messages(1) == [original]
        await other.assert_silent(0.7)
        await sender.assert_silent(0.3)
    finally:
        await sender.close()
        await other.close()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_frame"),
        ("[1, 2]", "invalid_frame"),
        (b"\x00binary", "invalid_frame"),
        ({"type": "shout"}, "unknown_type"),
        ({"client_id": "x", "body": "no type"}, "invalid_frame"),
        ({"type": "message.send", "body": "no client id"}, "invalid_frame"),
        ({"type": "message.send", "client_id": "x" * 65, "body": "id too long"}, "invalid_frame"),
        ({"type": "message.send", "client_id": "x", "body": 42}, "invalid_frame"),
        ({"type": "message.send", "client_id": "x", "body": "   \n "}, "invalid_frame"),
        ({"type": "message.send", "client_id": "x", "body": "y" * 4001}, "too_large"),
        ({"type": "message.send", "client_id": "x", "body": "y" * 3000, "pad": "z" * 14000}, "too_large"),
        ({"type": "resume", "after_seq": "7"}, "invalid_frame"),
        ({"type": "typing", "active": "yes"}, "invalid_frame"),
    ],
)
async def test_bad_frames_get_an_error_store_nothing_and_leave_the_socket_open(server_a, room, alice, frame, code):
    client = await _open(server_a, room, alice)
    try:
        await client.send(frame)
        error = await client.expect("error")
        assert error["code"] == code and error["detail"]
        # The socket still works, and nothing was stored: the next message is seq 1.
        await client.send_message("after", "still here")
        assert (await client.expect("message.ack"))["message"]["seq"] == 1
    finally:
        await client.close()


async def test_daphne_itself_drops_a_frame_far_over_the_limit(server_a, room, alice):
    client = await _open(server_a, room, alice)
    await client.send({"type": "message.send", "client_id": "huge", "body": "x" * (4 * 16384 + 1)})
    # Message too big: daphne fails the connection (1009, or 1006 when it resets the TCP stream
    # while the client is still writing) and never buffers the frame for the app.
    assert await client.close_code() in {1006, 1009}
    again = await _open(server_a, room, alice)  # the process is fine
    await again.close()


async def test_a_body_of_exactly_the_limit_in_four_byte_characters_fits_in_a_frame(server_a, room, alice):
    client = await _open(server_a, room, alice)
    try:
        await client.send_message("x" * 64, "🚀" * 4000)
        assert (await client.expect("message.ack"))["message"]["body"] == "🚀" * 4000
    finally:
        await client.close()


async def test_sending_faster_than_the_rate_limit_is_refused_with_retry_after(servers_with, room, alice):
    server = await sync_to_async(servers_with)("slow-refill", **SLOW_REFILL_LIMIT)
    client = await _open(server, room, alice)
    try:
        for n in range(10):
            await client.post(f"burst-{n}", f"message {n}")
        await client.send_message("burst-10", "one too many")
        error = await client.expect("error")
        assert error["code"] == "rate_limited" and error["client_id"] == "burst-10"
        assert 0 < error["retry_after"] <= 6
        await asyncio.sleep(error["retry_after"] + 0.1)
        await client.send_message("burst-10", "one too many")
        assert (await client.expect("message.ack"))["message"]["seq"] == 11  # nothing was stored before
    finally:
        await client.close()


async def test_a_muted_member_is_refused_and_a_locked_room_is_read_only(server_a, room, alice):
    membership = await Membership.objects.acreate(
        room=room, user=alice, muted_until=timezone.now() + timezone.timedelta(minutes=5)
    )
    client = await _open(server_a, room, alice)
    try:
        await client.send_message("muted", "can you hear me?")
        error = await client.expect("error")
        assert error["code"] == "forbidden" and "muted" in error["detail"]
        assert error["muted_until"] == protocol.iso_utc(membership.muted_until)

        membership.muted_until = None
        await membership.asave()
        room.is_locked = True
        await room.asave()
        await client.send_message("locked", "anyone?")
        error = await client.expect("error")
        assert error["code"] == "forbidden" and "locked" in error["detail"]
    finally:
        await client.close()


# --- resume ------------------------------------------------------------------------------


async def test_resume_replays_what_was_missed_then_continues_live_with_no_gap_or_duplicate(
    server_a, server_b, room, alice, bob
):
    talker = await _open(server_a, room, alice)
    listener = await _open(server_b, room, bob)
    try:
        for n in range(3):
            await talker.post(f"before-{n}", f"before {n}")
        seen = await listener.messages(3)
        await listener.close()
        for n in range(5):
            await talker.post(f"missed-{n}", f"missed {n}")

        back = await _open(server_b, room, bob)
        assert back.hello["last_seq"] == 8
        await back.send({"type": "resume", "after_seq": seen[-1]["seq"]})
        replay = await back.messages(5)
        assert [m["body"] for m in replay] == [f"missed {n}" for n in range(5)]
        assert await back.expect("resume.done") == {"type": "resume.done", "last_seq": 8}
        await talker.send_message("live", "live again")
        assert [m["seq"] for m in await back.messages(1)] == [9]
        await back.assert_silent(0.5)
        await back.close()
    finally:
        await talker.close()


async def test_resume_in_the_handshake_comes_before_any_live_message(server_a, room, alice, bob):
    talker = await _open(server_a, room, alice)
    try:
        for n in range(4):
            await talker.post(f"m{n}", f"m{n}")
        url = room_url(server_a, room) + "?after_seq=1"
        back = await ChatClient.open(url, token=bob.token)
        assert [m["seq"] for m in await back.messages(3)] == [2, 3, 4]
        assert (await back.expect("resume.done"))["last_seq"] == 4
        await back.close()
    finally:
        await talker.close()


async def test_resume_past_the_cap_says_so_and_sends_the_newest(room, alice, bob, transactional_db, django_db_blocker):
    from tests.support.servers import start_daphne

    server = await sync_to_async(start_daphne)("resume-cap", CHAT_RESUME_MAX_MESSAGES="3")
    try:
        talker = await _open(server, room, alice)
        for n in range(7):
            await talker.post(f"m{n}", f"m{n}")
        listener = await _open(server, room, bob)
        await listener.send({"type": "resume", "after_seq": 0})
        truncated = await listener.expect("resume.truncated")
        assert truncated == {"type": "resume.truncated", "after_seq": 0, "first_seq": 5, "last_seq": 7}
        assert [m["seq"] for m in await listener.messages(3)] == [5, 6, 7]
        await listener.expect("resume.done")
        await talker.close()
        await listener.close()
    finally:
        await sync_to_async(server.stop)()


# --- typing and presence --------------------------------------------------------------


async def test_typing_reaches_others_not_the_typist_and_is_throttled(server_a, server_b, room, alice, bob):
    typist, other = await _open(server_a, room, alice), await _open(server_b, room, bob)
    try:
        for _ in range(5):
            await typist.send({"type": "typing", "active": True})
        frame = await other.expect("typing")
        assert frame == {"type": "typing", "user": {"id": alice.pk, "username": "alice"}, "active": True}
        assert not [f for f in await other.frames_within(0.5) if f["type"] == "typing"], "the other four are throttled"
        await typist.send({"type": "typing", "active": False})
        assert (await other.expect("typing"))["active"] is False
        assert not [f for f in await typist.frames_within(0.3) if f["type"] == "typing"], "never echoed to the typist"
        await typist.post("after-typing", "typing stored nothing")
        assert (await other.messages(1))[0]["seq"] == 1
    finally:
        await typist.close()
        await other.close()


async def test_presence_follows_people_across_processes(server_a, server_b, room, alice, bob):
    first = await _open(server_a, room, alice)
    try:
        second = await _open(server_b, room, bob)
        assert {u["username"] for u in second.hello["online"]} == {"alice", "bob"}
        await first.presence_becomes({"alice", "bob"})
        await second.close()
        await first.presence_becomes({"alice"})
    finally:
        await first.close()


async def test_resume_is_throttled(server_a, room, alice):
    client = await _open(server_a, room, alice)
    try:
        for _ in range(3):
            await client.send({"type": "resume", "after_seq": 0})
            await client.expect("resume.done")
        await client.send({"type": "resume", "after_seq": 0})
        error = await client.expect("error")
        assert error["code"] == "rate_limited" and error["retry_after"] > 0
    finally:
        await client.close()


async def test_alternating_typing_cannot_flood_the_room(server_a, room, alice, bob):
    typist, other = await _open(server_a, room, alice), await _open(server_a, room, bob)
    try:
        for n in range(10):
            await typist.send({"type": "typing", "active": n % 2 == 0})
        typing = [f for f in await other.frames_within(1.0) if f["type"] == "typing"]
        assert [f["active"] for f in typing] == [True, False]
    finally:
        await typist.close()
        await other.close()


async def test_a_malformed_after_seq_in_the_handshake_is_ignored(server_a, room, alice):
    client = await ChatClient.open(room_url(server_a, room) + "?after_seq=%C2%B2", token=alice.token)
    await client.post("fine", "still works")
    await client.close()


async def test_a_send_to_a_room_deleted_meanwhile_is_refused_and_the_socket_stays(server_a, room, alice):
    client = await _open(server_a, room, alice)
    try:
        await room.adelete()
        await client.send_message("gone", "hello?")
        error = await client.expect("error")
        assert error["code"] == "forbidden" and "no longer exists" in error["detail"]
    finally:
        await client.close()


async def test_after_a_rate_limited_send_the_next_ones_wait_even_if_a_token_refilled(
    servers_with, room, alice, tmp_path
):
    # 10 per second: a token refills every 100 ms. A client that pipelined a burst learns of the
    # first refusal late; whatever it sent meanwhile must not overtake the refused message.
    # The embedded log: stores faster than a token refills even on a busy machine.
    server = await sync_to_async(servers_with)(
        "fast-limit",
        CHAT_RATE_MESSAGES="10",
        CHAT_RATE_WINDOW_SECONDS="1",
        CHAT_LOG_BACKEND="sqlite",
        CHAT_LOG_SQLITE_PATH=str(tmp_path / "chatlog.sqlite3"),
    )
    client = await ChatClient.open(room_url(server, room), token=alice.token)

    async def outcomes(count: int) -> list[tuple[str, str]]:
        seen = []
        while len(seen) < count:
            frame = await client.next_frame()
            if frame["type"] == "message.ack":
                seen.append(("ack", frame["message"]["client_id"]))
            elif frame["type"] == "error":
                seen.append((frame["code"], frame["client_id"]))
        return seen

    burst = 30
    for n in range(burst):
        await client.send_message(f"burst-{n}", f"burst {n}")
    seen = await outcomes(burst)
    first_refused = next(n for n, (outcome, _) in enumerate(seen) if outcome != "ack")
    acked = [client_id for outcome, client_id in seen if outcome == "ack"]
    assert acked == [f"burst-{n}" for n in range(first_refused)]
    assert {outcome for outcome, _ in seen[first_refused:]} == {"rate_limited"}

    await asyncio.sleep(0.15)  # a token has refilled by now; the refused ones are still unsent
    await client.send_message("late", "sent before the client saw its hold")
    assert await outcomes(1) == [("rate_limited", "late")]
    await client.close()
