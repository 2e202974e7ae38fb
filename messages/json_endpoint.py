"""The room WebSocket endpoint `/ws/rooms/<slug>/` (docs/protocol.md): one room session per socket.

A codec: it decodes the protocol's JSON frames into calls on its session
(messages.realtime.session) and writes the session's frames as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import parse_qs

from accounts.signals import login_group
from chatproject.redis_clients import REDIS_ERRORS
from chatproject.shared_frames import SendFrames, send_frames_of
from messages.async_orm import aroom_and_membership
from messages.realtime import protocol
from messages.realtime.connection import SessionConsumer
from messages.realtime.protocol import ServerFrame
from messages.realtime.session import UNAVAILABLE, RoomSession, SessionUnavailable
from messages.realtime.throttle import WindowThrottle
from messages.services import Posted, PostRejected
from rooms import policies

logger = logging.getLogger(__name__)

UNAVAILABLE_DETAIL = "The room cannot be served right now; reconnect later."


class RoomChatConsumer(SessionConsumer):
    session: RoomSession | None = None
    send_frames: SendFrames | None = None

    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            return await self._refuse(protocol.CLOSE_UNAUTHENTICATED)
        room, membership = await aroom_and_membership(user_id=user.pk, slug=self.scope["url_route"]["kwargs"]["slug"])
        if room is None:
            return await self._refuse(protocol.CLOSE_NOT_FOUND)
        if not policies.can_view(membership=membership, room=room):
            return await self._refuse(protocol.CLOSE_FORBIDDEN)
        me = protocol.user_payload(user.pk, user.get_username())
        self.send_frames = send_frames_of(self.scope)
        self.resume_throttle = WindowThrottle(limit=protocol.RESUMES_PER_WINDOW, seconds=protocol.RESUME_WINDOW_SECONDS)
        await self.accept()
        self.session = RoomSession(room=room, user=me, output=self)
        self.sessions.append(self.session)
        try:
            await self.join_login_groups(user_id=user.pk, login=login_group(self.scope))
            opened = await self.session.open()
        except SessionUnavailable:
            return await self.end(UNAVAILABLE)
        except REDIS_ERRORS:
            logger.exception("cannot open room %s: the channel layer is unavailable", room.pk)
            return await self.end(UNAVAILABLE)
        await self._write(
            protocol.hello_frame(
                room=protocol.room_payload(room), user=me, last_seq=opened.last_seq, online=opened.online
            )
        )
        # `?after_seq=N` resumes in the handshake, before any live message can interleave.
        if (after_seq := self._handshake_after_seq()) is not None:
            await self.session.resume(after_seq)
        self.session.start()

    def _handshake_after_seq(self) -> int | None:
        values = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get("after_seq")
        try:
            return protocol.parse_after_seq_text(values[0]) if values else None
        except protocol.ProtocolError:
            return None  # documented: a value that is not a seq is ignored

    async def _refuse(self, code: int) -> None:
        # Accept first: closing before accept() gives the client a bare HTTP 403 with no code.
        await self.accept()
        await self.close(code)

    async def disconnect(self, code: int) -> None:
        await self.leave_everything()

    async def end_login(self) -> None:
        await self.close(protocol.CLOSE_SESSION_ENDED)

    # --- client frames -------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.session is None or self.session.stream is None:
            return
        try:
            frame = protocol.parse_client_frame(text_data, bytes_data)
        except protocol.ProtocolError as error:
            return await self._write(error.frame())
        if isinstance(frame, protocol.SendFrame):
            try:
                await self.session.send(client_id=frame.client_id, body=frame.body, answer=self._ack)
            except PostRejected as error:
                await self._write(
                    protocol.error_frame(error.code, error.detail, client_id=frame.client_id, **error.extra)
                )
        elif isinstance(frame, protocol.ResumeFrame):
            if wait := self.resume_throttle.retry_after():
                return await self._write(
                    protocol.error_frame(
                        protocol.RATE_LIMITED,
                        f"At most {protocol.RESUMES_PER_WINDOW} resumes per {protocol.RESUME_WINDOW_SECONDS} s.",
                        retry_after=round(wait, 2),
                    )
                )
            await self.session.resume(frame.after_seq)
        else:
            self.session.typing(frame.active)

    async def _ack(self, posted: Posted) -> None:
        await self._write(protocol.ack_frame(client_id=posted.message.client_id, message=posted.payload))

    # --- the session's output (messages.realtime.session.SessionOutput) -----------------

    def write_now(self, frames: Sequence[ServerFrame]) -> bool:
        # Straight to the socket when the server offers it (chatproject.shared_frames): the
        # way through Channels' middleware and daphne costs more than the framing itself.
        return self.send_frames is not None and self.send_frames(frames)

    async def write(self, frames: Sequence[ServerFrame]) -> None:
        if not self.write_now(frames):
            for frame in frames:
                await self.send(text_data=frame.text)

    async def end(self, reason: str) -> None:
        if reason == UNAVAILABLE:
            await self._write(protocol.error_frame(protocol.UNAVAILABLE, UNAVAILABLE_DETAIL))
            return await self.close(protocol.CLOSE_TRY_AGAIN_LATER)
        await self.close(protocol.CLOSE_FORBIDDEN)

    async def _write(self, frame: dict) -> None:
        await self.write((ServerFrame.of(frame),))
