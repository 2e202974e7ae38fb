"""Every frame kind the server sends has a schema (messages.realtime.schemas), and every frame
both endpoints send matches it: the JSON endpoint's as they are, STOMP's MESSAGE bodies as the
frames they carry. One run makes the server send every kind, to a JSON socket and to a STOMP
subscription that asked for every optional kind."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema
from asgiref.sync import sync_to_async

from messages.realtime import protocol
from messages.realtime.schemas import FRAMES, MESSAGE
from rooms import services
from rooms.models import Membership
from tests.realtime.conftest import room_url
from tests.stomp.conftest import stomp_url
from tests.support.http import api
from tests.support.stomp import StompClient
from tests.support.ws import ChatClient

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_room_frame_kind_has_a_schema_and_is_documented():
    protocol_doc = (DOCS / "protocol.md").read_text()
    stomp_doc = (DOCS / "stomp.md").read_text()
    for kind in [*protocol.ROOM_FRAME_KINDS, "hello", "message.ack", "error"]:
        assert kind in FRAMES, kind
        assert f"### `{kind}`" in protocol_doc, kind
    for kind in protocol.OPTIONAL_ROOM_FRAME_KINDS:
        assert f"`{kind}`" in stomp_doc, kind


async def _drain(read, seconds: float) -> list:
    frames = []
    while True:
        try:
            frames.append(await read(seconds))
        except TimeoutError:
            return frames


async def test_both_endpoints_send_every_kind_and_each_matches_its_schema(servers_with, room, make_user):
    server = await sync_to_async(servers_with)("schemas", CHAT_RESUME_MAX_MESSAGES="2")
    alice, bob, carol = [await sync_to_async(make_user)(username=name) for name in ("alice", "bob", "carol")]
    await sync_to_async(Membership.objects.create)(room=room, user=alice, role=Membership.Role.MODERATOR)

    watcher = await ChatClient.open(room_url(server, room), token=alice.token)
    stomp = await StompClient.open(stomp_url(server))
    await stomp.connect(login=bob.username, passcode=bob.token)
    await stomp.subscribe("all", room.slug, x_events=",".join(sorted(protocol.OPTIONAL_ROOM_FRAME_KINDS)))

    for n in range(3):  # no receipts: the subscription's own copies come in between
        await stomp.send_frame("SEND", {"destination": f"/app/rooms.{room.slug}"}, f"from stomp {n}")
    await watcher.send_message("mine", "from json")
    newcomer = await ChatClient.open(room_url(server, room), token=carol.token)  # presence
    await newcomer.send({"type": "typing", "active": True})  # to the others: never to the typist
    await sync_to_async(services.room_join)(room=room, user=carol)  # member.updated
    await sync_to_async(services.room_leave)(room=room, user=carol)  # member.left
    await asyncio.sleep(0.6)  # presence frames are paced
    status, _ = await sync_to_async(api)(server, "POST", f"/api/rooms/{room.slug}/lock/", alice.token, {})
    assert status == 204  # room.updated
    status, _ = await sync_to_async(api)(server, "DELETE", f"/api/rooms/{room.slug}/messages/1/", alice.token)
    assert status == 204  # message.deleted
    await watcher.send({"type": "resume", "after_seq": 0})  # resume.truncated, resume.done
    await watcher.send("not json")  # error

    json_frames = await _drain(lambda t: watcher.next_frame(t, include_quiet=True), 1.5)
    stomp_frames = [frame for frame in await _drain(stomp.next_frame, 1.0) if frame.command == "MESSAGE"]
    await newcomer.close()

    json_frames.insert(0, watcher.hello)
    for frame in json_frames:
        jsonschema.validate(frame, FRAMES[frame["type"]])
    assert {frame["type"] for frame in json_frames} == set(FRAMES)

    for frame in stomp_frames:
        kind = frame.header("type")
        body = json.loads(frame.body)
        jsonschema.validate(body, MESSAGE if kind == "message.new" else FRAMES[kind])
    # Resumes come only after x-after-seq (below).
    assert {frame.header("type") for frame in stomp_frames} == set(protocol.ROOM_FRAME_KINDS) - {
        "resume.truncated",
        "resume.done",
    }
    await watcher.close()
    await stomp.close()


async def test_stomp_resumes_match_their_schemas(servers_with, room, make_user):
    server = await sync_to_async(servers_with)("schemas-resume", CHAT_RESUME_MAX_MESSAGES="2")
    bob = await sync_to_async(make_user)(username="bob")
    stomp = await StompClient.open(stomp_url(server))
    await stomp.connect(login=bob.username, passcode=bob.token)
    for n in range(3):
        await stomp.post(room.slug, f"m{n}")
    await stomp.send_frame("SUBSCRIBE", {"id": "r", "destination": f"/topic/rooms.{room.slug}", "x-after-seq": "0"})
    frames = [frame for frame in await _drain(stomp.next_frame, 1.0) if frame.command == "MESSAGE"]
    kinds = [frame.header("type") for frame in frames]
    assert kinds == ["resume.truncated", "message.new", "message.new", "resume.done"]
    for frame in frames:
        body = json.loads(frame.body)
        jsonschema.validate(body, MESSAGE if frame.header("type") == "message.new" else FRAMES[frame.header("type")])
    await stomp.close()
