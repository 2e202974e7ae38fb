"""The room WebSocket endpoint `/ws/rooms/<slug>/` (docs/protocol.md).

A thin adapter: decode a frame, authorize, call a service, reply. Ordering and gap filling
live in messages.delivery, the wire format in messages.protocol, presence in messages.presence.
"""

from __future__ import annotations

import logging
import time
import uuid
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts.signals import login_group
from chatproject.shared_frames import SendShared, SharedFrame, send_shared_of
from messages import protocol
from messages.chatlog import ChatLogUnavailable, get_chatlog
from messages.consumer_loop import InTurnDispatchMixin
from messages.db import OrmFreeDispatchMixin, aroom_and_membership
from messages.delivery import RoomStream
from messages.groups import room_group, user_group
from messages.hub import RoomListener, get_hub
from messages.layer_outage import LayerOutageMixin
from messages.presence import PresenceTracker
from messages.redis_client import REDIS_ERRORS
from messages.services import PostRejected, broadcast_posted, message_store, rate_limited
from messages.throttle import SendHold, WindowThrottle
from rooms import policies
from rooms.moderation import room_wire

logger = logging.getLogger(__name__)

# Replays are costly to serve and cheap to ask for.
RESUMES_PER_WINDOW, RESUME_WINDOW_SECONDS = 3, 10


class RoomChatConsumer(LayerOutageMixin, OrmFreeDispatchMixin, InTurnDispatchMixin, AsyncWebsocketConsumer):
    stream: RoomStream | None = None
    presence: PresenceTracker | None = None
    room_events: RoomListener | None = None
    groups_joined: tuple[str, ...] = ()
    send_shared: SendShared | None = None

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the socket ends (even by a crash), its presence must stop being refreshed
            # and the hub must stop handing it the room's events.
            if self.presence is not None:
                self.presence.stop()
            await self._leave_room()

    # --- connection lifecycle ----------------------------------------------------------

    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            return await self._refuse(protocol.CLOSE_UNAUTHENTICATED)
        room, membership = await aroom_and_membership(user_id=user.pk, slug=self.scope["url_route"]["kwargs"]["slug"])
        if room is None:
            return await self._refuse(protocol.CLOSE_NOT_FOUND)
        if not policies.can_view(membership=membership, room=room):
            return await self._refuse(protocol.CLOSE_FORBIDDEN)
        self.room, self.user = room, {"id": user.pk, "username": user.get_username()}
        self.typing_state = (0.0, False)
        self.typing_throttle = WindowThrottle(limit=2, seconds=max(settings.CHAT_TYPING_INTERVAL_SECONDS, 0.001))
        self.resume_throttle = WindowThrottle(limit=RESUMES_PER_WINDOW, seconds=RESUME_WINDOW_SECONDS)
        self.send_hold = SendHold()
        self.send_shared = send_shared_of(self.scope)

        await self.accept()
        chatlog = get_chatlog()
        try:
            # Subscribe before reading last_seq: anything stored after that read then reaches us.
            await self._join_groups()
            last_seq = await chatlog.last_seq(room_id=room.pk)
        except (ChatLogUnavailable, *REDIS_ERRORS):
            logger.exception("cannot open room %s", room.pk)
            return await self._unavailable_close()
        self.stream = RoomStream(
            chatlog=chatlog,
            room_id=room.pk,
            room_slug=room.slug,
            send_text=self._send_text,
            delivered_seq=last_seq,
            on_unavailable=self._unavailable_close,
            send_shared=self.send_shared,
        )
        self.presence = PresenceTracker(room_id=room.pk, user=self.user, connection_id=uuid.uuid4().hex[:12])
        online = await self.presence.join()
        await self._send_frame(
            protocol.hello_frame(room=room_wire(room), user=self.user, last_seq=last_seq, online=online)
        )
        # `?after_seq=N` resumes in the handshake, before any live message can interleave.
        after_seq = self._handshake_after_seq()
        if after_seq is not None:
            await self._resume(after_seq)
        self.room_events.start()

    async def _join_groups(self) -> None:
        # The room's events come through the process's hub (one subscription per room per
        # process); the user's and the login's rare events through this socket's own channel.
        self.room_events = RoomListener(self._room_event, deliver_now=self._deliver_now)
        await get_hub().join(self.room.pk, self.room_events, room_slug=self.room.slug)
        groups = [user_group(self.user["id"])]
        if login := login_group(self.scope):
            groups.append(login)
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined += (group,)

    async def _room_event(self, event: dict) -> None:
        await self.handler_for(event)(event)

    def _deliver_now(self, event: dict) -> bool:
        # The hub's fast path for a room message or a presence list: written on the hub's
        # turn, framed once for every socket of the room (chatproject.shared_frames), when
        # the server offers that.
        if self.stream is None or self.send_shared is None:
            return False
        if event["type"] == "chat.message":
            return self.stream.deliver_now(seq=event["seq"], frame=event["shared"])
        if event["type"] == "chat.presence":
            return self.send_shared(event["shared"])
        return False

    async def _leave_room(self) -> None:
        if self.stream is not None:
            self.stream.close()
        if self.room_events is not None:
            await get_hub().leave(self.room.pk, self.room_events)
            self.room_events = None

    async def disconnect(self, code: int) -> None:
        await self._leave_room()
        if self.presence is not None:
            await self.presence.leave()
        for group in self.groups_joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except REDIS_ERRORS:
                logger.warning("could not leave group %s; it expires by itself", group)

    async def _refuse(self, code: int) -> None:
        # Accept first: closing before accept() gives the client a bare HTTP 403 with no code.
        await self.accept()
        await self.close(code)

    async def _unavailable_close(self) -> None:
        await self._send_frame(
            protocol.error_frame(protocol.UNAVAILABLE, "The room cannot be served right now; reconnect later.")
        )
        await self.close(protocol.CLOSE_TRY_AGAIN_LATER)

    def _handshake_after_seq(self) -> int | None:
        values = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get("after_seq")
        # isdigit() also accepts characters such as "²" that int() refuses: ASCII digits only.
        if values and values[0].isascii() and values[0].isdigit() and len(values[0]) <= 16:
            return int(values[0])
        return None

    # --- client frames -------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.stream is None:
            return
        try:
            frame = protocol.parse_client_frame(text_data, bytes_data)
        except protocol.ProtocolError as error:
            return await self._send_frame(error.frame())
        if isinstance(frame, protocol.SendFrame):
            await self._send_message(frame)
        elif isinstance(frame, protocol.ResumeFrame):
            if wait := self.resume_throttle.retry_after():
                return await self._send_frame(
                    protocol.error_frame(
                        protocol.RATE_LIMITED,
                        f"At most {RESUMES_PER_WINDOW} resumes per {RESUME_WINDOW_SECONDS} s.",
                        retry_after=round(wait, 2),
                    )
                )
            await self._resume(frame.after_seq)
        else:
            await self._typing(frame.active)

    async def _send_message(self, frame: protocol.SendFrame) -> None:
        try:
            if wait := self.send_hold.remaining():
                raise rate_limited(wait)
            posted = None
            try:
                async with self.stream.own_send() as deliver:
                    posted = await message_store(
                        room_id=self.room.pk,
                        user_id=self.user["id"],
                        username=self.user["username"],
                        client_id=frame.client_id,
                        body=frame.body,
                    )
                    await self._send_frame(protocol.ack_frame(client_id=frame.client_id, message=posted.payload))
                    if posted.created:
                        await deliver(posted.message.seq, posted.frame_text)
            finally:
                # Broadcast once the sender has its ack and its copy, with the stream let go:
                # the ack waits for no Redis round trip, and the room's copy, when it comes back
                # to this socket, is dropped on the hub's turn instead of queueing behind the
                # lock. Whatever became of this socket meanwhile, the room is told.
                if posted is not None:
                    await broadcast_posted(posted)
        except PostRejected as error:
            if error.code == protocol.RATE_LIMITED:
                error = rate_limited(self.send_hold.hold(error.extra["retry_after"]))
            await self._send_frame(
                protocol.error_frame(error.code, error.detail, client_id=frame.client_id, **error.extra)
            )

    async def _resume(self, after_seq: int) -> None:
        try:
            await self.stream.resume(after_seq=after_seq, cap=settings.CHAT_RESUME_MAX_MESSAGES)
        except ChatLogUnavailable:
            await self._unavailable_close()

    async def _typing(self, active: bool) -> None:
        # Ephemeral, never stored. A repeated "active" within the interval and an "inactive"
        # with nothing to end are dropped; and at most two indications go out per interval,
        # however a client alternates.
        now = time.monotonic()
        last_at, last_active = self.typing_state
        if active == last_active and (not active or now - last_at < settings.CHAT_TYPING_INTERVAL_SECONDS):
            return
        if self.typing_throttle.retry_after():
            return
        self.typing_state = (now, active)
        event = {
            "type": "chat.typing",
            "room_id": self.room.pk,
            "user": self.user,
            "active": active,
            "sender": self.channel_name,
        }
        try:
            await self.channel_layer.group_send(room_group(self.room.pk), event)
        except REDIS_ERRORS:
            logger.warning("typing indication lost: channel layer unavailable")

    # --- channel-layer events ---------------------------------------------------------

    async def chat_message(self, event: dict) -> None:
        if self.stream is not None:
            # From the hub, framed once for every socket here; as text from elsewhere.
            await self.stream.deliver(seq=event["seq"], frame=event.get("shared") or event["text"])

    async def chat_catch_up(self, event: dict) -> None:
        # From the hub's tail check: a message stored but never broadcast here.
        if self.stream is None:
            return
        try:
            await self.stream.catch_up(through_seq=event["seq"])
        except ChatLogUnavailable:
            await self._unavailable_close()

    async def chat_typing(self, event: dict) -> None:
        if event["sender"] != self.channel_name:
            await self._send_frame(protocol.typing_frame(user=event["user"], active=event["active"]))

    async def chat_presence(self, event: dict) -> None:
        # From the hub, encoded and framed once for every socket here: not encoded again when
        # the shared write is refused, just sent the plain way (as _send_text does).
        if (shared := event.get("shared")) is None:
            return await self._send_frame(protocol.presence_frame(event["online"]))
        if self.send_shared is None or not self.send_shared(shared):
            await self.send(text_data=shared.text)

    async def chat_deleted(self, event: dict) -> None:
        if self.stream is None:
            return
        try:
            # Deliver up to the deleted seq first (from the log, as a tombstone), so a late
            # live copy of the message can never show its body after the deletion.
            await self.stream.catch_up(through_seq=event["seq"])
        except ChatLogUnavailable:
            return await self._unavailable_close()
        await self._send_frame(protocol.message_deleted_frame(message_id=event["id"], seq=event["seq"]))

    async def room_updated(self, event: dict) -> None:
        await self._send_frame(protocol.room_updated_frame(event["room"]))

    async def session_ended(self, event: dict) -> None:
        await self.close(protocol.CLOSE_SESSION_ENDED)

    async def access_changed(self, event: dict) -> None:
        if event["room_id"] != self.room.pk:
            return
        room, membership = await aroom_and_membership(user_id=self.user["id"], slug=self.room.slug)
        if room is None or not policies.can_view(membership=membership, room=room):
            await self.close(protocol.CLOSE_FORBIDDEN)

    # --- helpers ---------------------------------------------------------------------------

    async def _send_frame(self, frame: dict) -> None:
        await self._send_text(protocol.encode(frame))

    async def _send_text(self, text: str) -> None:
        # Straight to the socket when the server offers it (chatproject.shared_frames): the
        # way through Channels' middleware and daphne costs more than the framing itself.
        if self.send_shared is None or not self.send_shared(SharedFrame(text)):
            await self.send(text_data=text)
