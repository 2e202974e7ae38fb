"""The STOMP endpoint `/ws/stomp/` (docs/stomp.md): one connection, any number of room subscriptions.

A thin adapter between STOMP frames and what the JSON endpoint already does: message_store
stores and broadcast_posted tells the room, RoomStream delivers each subscription in seq
order, PresenceTracker keeps each subscription online, rooms.policies decides who may see a
room.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts.signals import login_group, token_group
from messages import protocol
from messages.chatlog import ChatLogUnavailable, get_chatlog
from messages.consumer_loop import InTurnDispatchMixin
from messages.db import OrmFreeDispatchMixin, aroom_and_membership, db_call
from messages.delivery import RoomStream
from messages.groups import room_group, user_group
from messages.layer_outage import LayerOutageMixin
from messages.presence import PresenceTracker
from messages.redis_client import REDIS_ERRORS
from messages.services import PostRejected, broadcast_posted, message_store
from messages.stomp import destinations, errors, handshake, outbound
from messages.stomp.errors import StompError
from messages.stomp.frames import HEARTBEAT, Frame, FrameError, FrameParser
from messages.stomp.heartbeat import Heartbeats, Liveness
from messages.stomp.sending import SendRequest
from messages.stomp.subscriptions import SubscribeRequest, Subscription, Subscriptions
from rooms import policies
from rooms.models import Room

logger = logging.getLogger(__name__)

NORMAL_CLOSURE = 1000


@db_call
def _room_id(slug: str) -> int | None:
    return Room.objects.filter(slug=slug).values_list("pk", flat=True).first()


class StompConsumer(LayerOutageMixin, OrmFreeDispatchMixin, InTurnDispatchMixin, AsyncWebsocketConsumer):
    outage_frame = None  # before CONNECT there is no STOMP session to send an ERROR in
    user: dict | None = None  # {"id", "username"} once CONNECTED
    closed = False
    liveness: Liveness | None = None

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the socket ends (even by a crash), nothing of it may keep running.
            self._stop_tasks()

    async def dispatch(self, message) -> None:
        handler = self.handler_for(message)
        # Time spent handling (a long replay, say) is not the client's silence.
        if self.liveness is None:  # websocket.connect
            return await handler(message)
        with self.liveness.busy():
            await handler(message)

    # --- connection lifecycle ----------------------------------------------------------

    async def connect(self) -> None:
        self.parser = FrameParser(max_frame_bytes=settings.CHAT_MAX_FRAME_BYTES)
        self.version = "1.0"  # for ERROR frames before CONNECT: no header escaping
        self.subscriptions = Subscriptions()
        self.groups_joined: set[str] = set()
        self.connection_id = uuid.uuid4().hex[:12]
        self.serial = 0
        self.liveness = Liveness(send_beat=partial(self._send_bytes, HEARTBEAT), timed_out=self._timed_out)
        await self.accept(handshake.choose_subprotocol(self.scope.get("subprotocols", [])))
        self.liveness.await_connect()

    async def disconnect(self, code: int) -> None:
        self.closed = True
        self._stop_tasks()
        for sub in self.subscriptions.all():
            if sub.presence is not None:
                await sub.presence.leave()
        for group in self.groups_joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except REDIS_ERRORS:
                logger.warning("could not leave group %s; it expires by itself", group)

    def _stop_tasks(self) -> None:
        if self.liveness is not None:
            self.liveness.stop()
        for sub in getattr(self, "subscriptions", Subscriptions()).all():
            if sub.presence is not None:
                sub.presence.stop()
            if sub.stream is not None:
                sub.stream.close()

    async def _fail(self, error: StompError) -> None:
        """ERROR, then close: STOMP 1.2 has no error after which a connection goes on."""
        if self.closed:
            return
        await self._send_bytes(outbound.error(error, version=self.version))
        self.closed = True
        await self.close(error.close_code)

    # --- client frames -------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        self.liveness.received()
        data = text_data.encode("utf-8") if text_data is not None else bytes_data or b""
        try:
            # Frame by frame: a CONNECT changes how the frames after it in the same message parse.
            for frame in self.parser.parse(data):
                await self._dispatch(frame)
                if self.closed:
                    return
        except FrameError as error:
            await self._fail(StompError(error.code, error.detail))
        except StompError as error:
            await self._fail(error)

    async def _dispatch(self, frame: Frame) -> None:
        try:
            if self.user is None:
                if frame.command not in {"CONNECT", "STOMP"}:
                    raise StompError(errors.INVALID_FRAME, "The first frame must be CONNECT (or STOMP).")
                return await self._connect(frame)
            match frame.command:
                case "SEND":
                    return await self._send(frame)  # its RECEIPT says more than the others
                case "SUBSCRIBE":
                    await self._subscribe(frame)
                case "UNSUBSCRIBE":
                    await self._unsubscribe(frame)
                case "DISCONNECT":
                    return await self._disconnect(frame)
                case "CONNECT" | "STOMP":
                    raise StompError(errors.INVALID_FRAME, "Already connected.")
                case "ACK" | "NACK":
                    raise StompError(errors.UNSUPPORTED, "Subscriptions are ack:auto; there is nothing to ACK.")
                case _:  # BEGIN, COMMIT, ABORT
                    raise StompError(errors.UNSUPPORTED, "Transactions are not supported.")
            await self._receipt(frame)
        except StompError as error:
            error.receipt_id = frame.header("receipt")
            raise

    async def _connect(self, frame: Frame) -> None:
        version = handshake.negotiate_version(frame)
        heartbeats = Heartbeats.negotiate(frame)
        user, auth_method = await handshake.authenticate(frame, self.scope)
        self.user = {"id": user.pk, "username": user.get_username()}
        groups = [user_group(user.pk)]  # bans, deactivation
        # The login's: logging the session out, or revoking the token, ends the connection.
        login = token_group(frame.header("passcode")) if auth_method == "passcode" else login_group(self.scope)
        if login:
            groups.append(login)
        for group in groups:
            await self._join_group(group)
        self.version = self.parser.version = version
        await self._send_bytes(
            outbound.connected(
                version=version,
                heartbeat=Heartbeats.server_offer(),
                session=self.connection_id,
                username=self.user["username"],
            )
        )
        self.liveness.keep(heartbeats)

    async def _disconnect(self, frame: Frame) -> None:
        await self._receipt(frame)
        self.closed = True
        await self.close(NORMAL_CLOSURE)

    async def _send(self, frame: Frame) -> None:
        request = SendRequest.of(frame)
        room_id = self.subscriptions.room_id_of(request.room_slug) or await _room_id(request.room_slug)
        if room_id is None:
            raise StompError(errors.NOT_FOUND, f"There is no room {request.room_slug!r}.")
        try:
            posted = await message_store(
                room_id=room_id,
                user_id=self.user["id"],
                username=self.user["username"],
                client_id=request.client_id,
                body=request.body,
            )
        except PostRejected as error:
            headers = errors.extra_headers(error.extra, client_id=request.client_id)
            raise StompError(error.code, error.detail, **headers) from None
        try:
            # RECEIPT only now: the message is stored. It names the message, like the JSON ack.
            await self._receipt(frame, **{"message-id": posted.message.id, "seq": str(posted.message.seq)})
            if posted.created:
                for sub in self.subscriptions.in_room(room_id):
                    await self._deliver(sub, posted.message.seq, posted.frame_text)
        finally:
            # The room is told after the sender is answered (as on the JSON endpoint): the
            # RECEIPT waits for no Redis round trip.
            await broadcast_posted(posted)

    async def _subscribe(self, frame: Frame) -> None:
        request = SubscribeRequest.of(frame, version=self.version)
        self.subscriptions.check_new(request.id)
        slug = destinations.topic_slug(request.destination)
        room, membership = await aroom_and_membership(user_id=self.user["id"], slug=slug)
        if room is None:
            raise StompError(errors.NOT_FOUND, f"There is no room {slug!r}.")
        if not policies.can_view(membership=membership, room=room):
            raise StompError(errors.FORBIDDEN, f"You may not see room {slug!r}.")
        if request.after_seq is not None:
            self.subscriptions.count_resume(room.pk)
        sub = Subscription(request.id, request.destination, room.pk, room.slug, request.events)
        chatlog = get_chatlog()
        try:
            # Join before reading last_seq: anything stored after that read then reaches us.
            await self._join_group(room_group(room.pk))
            last_seq = await chatlog.last_seq(room_id=room.pk)
        except ChatLogUnavailable:
            raise StompError(errors.UNAVAILABLE, "The room cannot be served right now; reconnect later.") from None
        sub.stream = RoomStream(
            chatlog=chatlog,
            room_id=room.pk,
            room_slug=room.slug,
            send_text=partial(self._send_room_text, sub),
            delivered_seq=last_seq,
            on_unavailable=self._fail_unavailable,
        )
        sub.presence = PresenceTracker(
            room_id=room.pk,
            user=self.user,
            connection_id=f"{self.connection_id}.{self._next_serial()}",
        )
        self.subscriptions.add(sub)
        await sub.presence.join()
        if request.after_seq is not None:
            # Before any live message of this room: events wait until this frame is handled.
            await self._with_log(sub.stream.resume(after_seq=request.after_seq, cap=settings.CHAT_RESUME_MAX_MESSAGES))

    async def _unsubscribe(self, frame: Frame) -> None:
        sub_id = frame.header("id") or (frame.header("destination") if self.version == "1.0" else None)
        if not sub_id:
            raise StompError(errors.INVALID_FRAME, "UNSUBSCRIBE needs an id header.")
        sub = self.subscriptions.pop(sub_id)
        if sub.stream is not None:
            sub.stream.close()
        if sub.presence is not None:
            await sub.presence.leave()
        if not self.subscriptions.in_room(sub.room_id):
            await self._leave_group(room_group(sub.room_id))

    async def _receipt(self, frame: Frame, **extra: str) -> None:
        receipt_id = frame.header("receipt")
        if receipt_id is not None:
            await self._send_bytes(outbound.receipt(receipt_id, version=self.version, **extra))

    # --- channel-layer events (the room's, routed by `room_id`; the user's; the session's) --

    async def chat_message(self, event: dict) -> None:
        for sub in self.subscriptions.in_room(event.get("room_id")):
            await self._deliver(sub, event["seq"], event["text"])

    async def chat_deleted(self, event: dict) -> None:
        frame = protocol.message_deleted_frame(message_id=event["id"], seq=event["seq"])
        for sub in self.subscriptions.in_room(event.get("room_id")):
            # Deliver up to the deleted seq first (from the log, as a tombstone), so a late
            # live copy of the message can never show its body after the deletion.
            await self._with_log(sub.stream.catch_up(through_seq=event["seq"]))
            await self._send_room_frame(sub, frame)

    async def chat_typing(self, event: dict) -> None:
        await self._optional_event(event, "typing", protocol.typing_frame(user=event["user"], active=event["active"]))

    async def chat_presence(self, event: dict) -> None:
        await self._optional_event(event, "presence", protocol.presence_frame(event["online"]))

    async def room_updated(self, event: dict) -> None:
        await self._optional_event(event, "room.updated", protocol.room_updated_frame(event["room"]))

    async def access_changed(self, event: dict) -> None:
        """A ban, a removal, or the room made private: re-check, as the JSON endpoint does."""
        subs = self.subscriptions.in_room(event["room_id"])
        if not subs:
            return
        room, membership = await aroom_and_membership(user_id=self.user["id"], pk=event["room_id"])
        if room is None or not policies.can_view(membership=membership, room=room):
            # An ERROR ends the whole connection (STOMP has no other way to end a subscription);
            # the client reconnects without this room.
            await self._fail(StompError(errors.FORBIDDEN, f"You may no longer see room {subs[0].room_slug!r}."))

    async def session_ended(self, event: dict) -> None:
        await self._fail(StompError(errors.SESSION_ENDED, "The browser session of this connection logged out."))

    # --- delivery ----------------------------------------------------------------------------

    async def _deliver(self, sub: Subscription, seq: int, text: str) -> None:
        await sub.stream.deliver(seq=seq, frame=text)

    async def _with_log(self, reading) -> None:
        try:
            await reading
        except ChatLogUnavailable:
            await self._fail_unavailable()

    async def _fail_unavailable(self) -> None:
        # A gap the log cannot fill ends the connection: better a reconnect-and-resume than a hole.
        await self._fail(StompError(errors.UNAVAILABLE, "The room cannot be served right now; reconnect later."))

    async def _optional_event(self, event: dict, name: str, frame: dict) -> None:
        if event.get("sender") == self.channel_name:
            return  # our own typing: never echoed, as on the JSON endpoint (STOMP cannot type anyway)
        for sub in self.subscriptions.in_room(event.get("room_id")):
            if name in sub.events:
                await self._send_room_frame(sub, frame)

    async def _send_room_text(self, sub: Subscription, text: str) -> None:
        """RoomStream's output (encoded JSON frames) as this subscription's MESSAGE frames."""
        await self._send_room_frame(sub, outbound.decode_json_frame(text))

    async def _send_room_frame(self, sub: Subscription, frame: dict) -> None:
        if self.closed:
            return
        await self._send_bytes(
            outbound.room_message(
                frame,
                destination=sub.destination,
                subscription=sub.id,
                message_id=f"{self.connection_id}-{self._next_serial()}",
                version=self.version,
            )
        )

    # --- plumbing ------------------------------------------------------------------------------

    async def _join_group(self, group: str) -> None:
        if group in self.groups_joined:
            return
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except REDIS_ERRORS:
            logger.exception("cannot join group %s", group)
            raise StompError(errors.UNAVAILABLE, "The server cannot serve this right now; reconnect later.") from None
        self.groups_joined.add(group)

    async def _leave_group(self, group: str) -> None:
        self.groups_joined.discard(group)
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except REDIS_ERRORS:
            logger.warning("could not leave group %s; it expires by itself", group)

    async def _send_bytes(self, data: bytes) -> None:
        # Text frames: every frame we build is UTF-8, and text is what browsers' tools show.
        await self.send(text_data=data.decode("utf-8"))
        self.liveness.sent()

    def _next_serial(self) -> int:
        self.serial += 1
        return self.serial

    async def _timed_out(self, reason: str) -> None:
        await self._fail(StompError(errors.HEARTBEAT_TIMEOUT, reason))
