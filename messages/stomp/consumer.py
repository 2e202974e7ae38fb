"""The STOMP endpoint `/ws/stomp/` (docs/stomp.md): one connection, any number of room subscriptions.

A codec: STOMP frames become calls on room sessions (messages.realtime.session), one session
per subscription, and each session's frames go out as that subscription's MESSAGE frames. A
SEND posts through the same path as the JSON endpoint (messages.realtime.session.post_message).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from functools import partial

from django.conf import settings

from accounts.signals import login_group, token_group
from chatproject.redis_clients import REDIS_ERRORS
from chatproject.shared_frames import SharedFrame, send_frames_of
from messages.async_orm import aroom_and_membership, db_call
from messages.realtime.connection import SessionConsumer
from messages.realtime.protocol import ServerFrame
from messages.realtime.session import UNAVAILABLE, RoomSession, SessionUnavailable, post_message
from messages.services import Posted, PostRejected
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
UNAVAILABLE_DETAIL = "The room cannot be served right now; reconnect later."


@db_call
def _room_id(slug: str) -> int | None:
    return Room.objects.filter(slug=slug).values_list("pk", flat=True).first()


class StompConsumer(SessionConsumer):
    outage_frame = None  # before CONNECT there is no STOMP session to send an ERROR in
    user: dict | None = None  # {"id", "username"} once CONNECTED
    closed = False
    liveness: Liveness | None = None

    async def dispatch(self, message) -> None:
        # Time spent handling (a long replay, say) is not the client's silence.
        if self.liveness is None:  # websocket.connect
            return await super().dispatch(message)
        with self.liveness.busy():
            await super().dispatch(message)

    # --- connection lifecycle ----------------------------------------------------------

    async def connect(self) -> None:
        self.parser = FrameParser(max_frame_bytes=settings.CHAT_MAX_FRAME_BYTES)
        self.version = "1.0"  # for ERROR frames before CONNECT: no header escaping
        self.subscriptions = Subscriptions()
        self.connection_id = uuid.uuid4().hex[:12]
        self.serial = 0
        self.send_frames = send_frames_of(self.scope)
        self.liveness = Liveness(send_beat=partial(self._send_bytes, HEARTBEAT), timed_out=self._timed_out)
        await self.accept(handshake.choose_subprotocol(self.scope.get("subprotocols", [])))
        self.liveness.await_connect()

    async def disconnect(self, code: int) -> None:
        self.closed = True
        self.liveness.stop()
        await self.leave_everything()

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.liveness is not None:
                self.liveness.stop()

    async def _fail(self, error: StompError) -> None:
        """ERROR, then close: STOMP 1.2 has no error after which a connection goes on."""
        if self.closed:
            return
        await self._send_bytes(outbound.error(error, version=self.version))
        self.closed = True
        await self.close(error.close_code)

    async def end_login(self) -> None:
        await self._fail(StompError(errors.SESSION_ENDED, "The browser session of this connection logged out."))

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
                    return await self._subscribe(frame)  # its RECEIPT comes before live messages
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
        # The login's: logging the session out, or revoking the token, ends the connection.
        login = token_group(frame.header("passcode")) if auth_method == "passcode" else login_group(self.scope)
        try:
            await self.join_login_groups(user_id=user.pk, login=login)
        except REDIS_ERRORS:
            logger.exception("cannot join the groups of user %s", user.pk)
            raise StompError(errors.UNAVAILABLE, "The server cannot serve this right now; reconnect later.") from None
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

        async def answer(posted: Posted) -> None:
            # RECEIPT only now: the message is stored. It names the message, like the JSON ack.
            await self._receipt(frame, **{"message-id": posted.message.id, "seq": str(posted.message.seq)})

        try:
            await post_message(
                room_id=room_id,
                user=self.user,
                client_id=request.client_id,
                body=request.body,
                sessions=[sub.session for sub in self.subscriptions.in_room(room_id)],
                answer=answer,
            )
        except PostRejected as error:
            headers = errors.extra_headers(error.extra, client_id=request.client_id)
            raise StompError(error.code, error.detail, **headers) from None

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
        sub = Subscription(request.id, request.destination, request.events, connection=self)
        sub.session = RoomSession(
            room=room, user=self.user, output=sub, connection_id=f"{self.connection_id}.{self._next_serial()}"
        )
        self.sessions.append(sub.session)
        self.subscriptions.add(sub)
        try:
            await sub.session.open()
        except SessionUnavailable:
            raise StompError(errors.UNAVAILABLE, UNAVAILABLE_DETAIL) from None
        if request.after_seq is not None:
            # Before any live message of this room: live events wait until start().
            await sub.session.resume(request.after_seq)
        await self._receipt(frame)
        sub.session.start()

    async def _unsubscribe(self, frame: Frame) -> None:
        sub_id = frame.header("id") or (frame.header("destination") if self.version == "1.0" else None)
        if not sub_id:
            raise StompError(errors.INVALID_FRAME, "UNSUBSCRIBE needs an id header.")
        sub = self.subscriptions.pop(sub_id)
        self.sessions.remove(sub.session)
        await sub.session.close()

    async def _receipt(self, frame: Frame, **extra: str) -> None:
        receipt_id = frame.header("receipt")
        if receipt_id is not None:
            await self._send_bytes(outbound.receipt(receipt_id, version=self.version, **extra))

    # --- the subscriptions' output (messages.stomp.subscriptions.Connection) ---------------

    def write_messages_now(self, sub: Subscription, frames: Sequence[ServerFrame]) -> bool:
        if self.closed or self.send_frames is None:
            return self.closed  # a closed connection takes (and drops) everything
        if frames and not self.send_frames([SharedFrame(text) for text in self._messages(sub, frames)]):
            return False
        self.liveness.sent()
        return True

    async def write_messages(self, sub: Subscription, frames: Sequence[ServerFrame]) -> None:
        if not self.write_messages_now(sub, frames):
            for text in self._messages(sub, frames):
                await self.send(text_data=text)
            self.liveness.sent()

    def _messages(self, sub: Subscription, frames: Sequence[ServerFrame]) -> list[str]:
        return [
            outbound.room_message(
                frame.data,
                destination=sub.destination,
                subscription=sub.id,
                message_id=f"{self.connection_id}-{self._next_serial()}",
                version=self.version,
            ).decode("utf-8")
            for frame in frames
        ]

    async def end_subscription(self, sub: Subscription, reason: str) -> None:
        # An ERROR ends the whole connection (STOMP has no other way to end a subscription);
        # the client reconnects without this room, or resumes it later.
        if reason == UNAVAILABLE:
            return await self._fail(StompError(errors.UNAVAILABLE, UNAVAILABLE_DETAIL))
        await self._fail(StompError(errors.FORBIDDEN, f"You may no longer see room {sub.room_slug!r}."))

    # --- plumbing ------------------------------------------------------------------------------

    async def _send_bytes(self, data: bytes) -> None:
        # Text frames: every frame we build is UTF-8, and text is what browsers' tools show.
        await self.send(text_data=data.decode("utf-8"))
        self.liveness.sent()

    def _next_serial(self) -> int:
        self.serial += 1
        return self.serial

    async def _timed_out(self, reason: str) -> None:
        await self._fail(StompError(errors.HEARTBEAT_TIMEOUT, reason))
