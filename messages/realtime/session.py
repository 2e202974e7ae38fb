"""A room session: one socket's part in one room, whatever the endpoint.

The JSON endpoint (messages.json_endpoint) has one session per socket; a STOMP connection
(messages.stomp) has one per subscription. Each endpoint is a codec around its sessions: it
decodes frames into calls here (`open`, `resume`, `send`, `typing`, `close`) and gives each
session an `Output` that writes the protocol's frames its own way. Everything else is here,
once: joining the room's events before reading `last_seq`, resuming, in-order gap-filling
delivery (messages.realtime.delivery), the sender's ack before its own copy, the hold after
a rate-limit refusal, deletions caught up from the log, access checked again, presence and
typing. A room event of a new kind is handled in `frame_of` and `_handle` below.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from chatproject.redis_clients import REDIS_ERRORS
from messages.async_orm import aroom_and_membership
from messages.chatlog import ChatLogUnavailable, get_chatlog
from messages.realtime import events, protocol
from messages.realtime.delivery import Output, RoomStream
from messages.realtime.events import Event
from messages.realtime.hub import RoomListener, get_hub
from messages.realtime.presence import PresenceTracker
from messages.realtime.protocol import ServerFrame
from messages.realtime.throttle import SendHold, WindowThrottle
from messages.services import Posted, PostRejected, message_store, rate_limited
from rooms import policies
from rooms.models import Room

logger = logging.getLogger(__name__)

# What ends a session: the endpoint closes with the protocol's code for it.
FORBIDDEN, UNAVAILABLE = protocol.FORBIDDEN, protocol.UNAVAILABLE


class SessionOutput(Output, Protocol):
    async def end(self, reason: str) -> None:
        """The session cannot go on (FORBIDDEN: access lost; UNAVAILABLE: the log cannot be read)."""


class SessionUnavailable(Exception):
    """The room cannot be served now: its events or its log could not be reached."""


@dataclass(frozen=True, slots=True)
class Opened:
    last_seq: int
    online: list[dict]


# The room events that become one frame, the same for every session of the process.
_FRAMES: dict[str, Callable[[Event], dict]] = {
    events.PRESENCE: lambda event: protocol.presence_frame(event["online"]),
    events.TYPING: lambda event: protocol.typing_frame(user=event["user"], active=event["active"]),
    events.ROOM_UPDATED: lambda event: protocol.room_updated_frame(event["room"]),
    events.MEMBER_UPDATED: lambda event: protocol.member_updated_frame(
        user_id=event["user_id"], username=event["username"], role=event["role"]
    ),
    events.MEMBER_LEFT: lambda event: protocol.member_left_frame(user_id=event["user_id"], username=event["username"]),
}


def frame_of(event: Event) -> ServerFrame | None:
    """The frame of a room event that is simply shown, built once per process for all sessions."""
    frame = event.get("frame")
    if frame is None and (build := _FRAMES.get(event["type"])) is not None:
        frame = event["frame"] = ServerFrame.of(build(event))
    return frame


class RoomSession:
    def __init__(self, *, room: Room, user: dict, output: SessionOutput, connection_id: str | None = None) -> None:
        self.room = room
        self.user = user  # {"id", "username"}
        self.output = output
        self.connection_id = connection_id or uuid.uuid4().hex[:12]
        self.stream: RoomStream | None = None
        self.presence: PresenceTracker | None = None
        self.listener: RoomListener | None = None
        self.send_hold = SendHold()
        self.typing_state = (0.0, False)
        self.typing_throttle = WindowThrottle(limit=2, seconds=max(settings.CHAT_TYPING_INTERVAL_SECONDS, 0.001))
        self.closed = False

    # --- lifecycle -----------------------------------------------------------------------

    async def open(self) -> Opened:
        """Join the room's events, read its last seq, go online. Live events wait until
        `start()`. Raises SessionUnavailable."""
        self.listener = RoomListener(self._handle, deliver_now=self._deliver_now)
        chatlog = get_chatlog()
        try:
            # Join before reading last_seq: anything stored after that read then reaches us.
            await get_hub().join(self.room.pk, self.listener, room_slug=self.room.slug)
            last_seq = await chatlog.last_seq(room_id=self.room.pk)
        except (ChatLogUnavailable, *REDIS_ERRORS) as error:
            logger.exception("cannot open room %s", self.room.pk)
            raise SessionUnavailable from error
        self.stream = RoomStream(
            chatlog=chatlog,
            room_id=self.room.pk,
            room_slug=self.room.slug,
            output=self.output,
            delivered_seq=last_seq,
            on_unavailable=self._unavailable,
        )
        self.presence = PresenceTracker(room_id=self.room.pk, user=self.user, connection_id=self.connection_id)
        return Opened(last_seq=last_seq, online=await self.presence.join())

    def start(self) -> None:
        """Deliver the room's live events from now on (after the endpoint's greeting)."""
        self.listener.start()

    async def close(self) -> None:
        """Leave the room: no more events, offline. Safe to call more than once."""
        if self.closed:
            return
        self.stop()
        if self.listener is not None:
            await get_hub().leave(self.room.pk, self.listener)
        if self.presence is not None:
            await self.presence.leave()

    def stop(self) -> None:
        """What must stop however the socket ends, even by a crash: nothing of it keeps running."""
        self.closed = True
        if self.presence is not None:
            self.presence.stop()
        if self.stream is not None:
            self.stream.close()
        if self.listener is not None:
            self.listener.close()

    # --- what the client asks -------------------------------------------------------------

    async def resume(self, after_seq: int) -> None:
        try:
            await self.stream.resume(after_seq=after_seq, cap=settings.CHAT_RESUME_MAX_MESSAGES)
        except ChatLogUnavailable:
            await self._unavailable()

    async def send(self, *, client_id: str, body: str, answer: Callable[[Posted], Awaitable[None]]) -> Posted:
        """Post a message to the room (`answer` tells the sender, before its own copy).
        Raises PostRejected."""
        if wait := self.send_hold.remaining():
            raise rate_limited(wait)
        try:
            return await post_message(
                room_id=self.room.pk, user=self.user, client_id=client_id, body=body, sessions=[self], answer=answer
            )
        except PostRejected as error:
            if error.code == protocol.RATE_LIMITED:
                # Later sends wait too, so that a burst is stored in the order it was written.
                raise rate_limited(self.send_hold.hold(error.extra["retry_after"])) from None
            raise

    def typing(self, active: bool) -> None:
        """Tell the room's other sockets. Ephemeral, never stored. A repeated "active" within
        the interval and an "inactive" with nothing to end are dropped; and at most two
        indications go out per interval, however a client alternates."""
        now = time.monotonic()
        last_at, last_active = self.typing_state
        if active == last_active and (not active or now - last_at < settings.CHAT_TYPING_INTERVAL_SECONDS):
            return
        if self.typing_throttle.retry_after():
            return
        self.typing_state = (now, active)
        events.publish(self.room.pk, events.typing(user=self.user, active=active, sender=self.connection_id))

    async def check_access(self) -> None:
        """Someone may have taken the room from this user: end the session if so."""
        room, membership = await aroom_and_membership(user_id=self.user["id"], pk=self.room.pk)
        if room is None or not policies.can_view(membership=membership, room=room):
            await self.output.end(FORBIDDEN)

    # --- the room's events ----------------------------------------------------------------

    def _deliver_now(self, batch: Sequence[Event]) -> bool:
        """The hub's fast path: the batch written at once, in one write, when every event in it
        is simply shown and its messages come next. False: nothing written, use `_handle`."""
        stream = self.stream
        if stream is None or not stream.is_idle():
            return False
        frames, seq = [], stream.delivered_seq
        for event in batch:
            kind = event["type"]
            if kind == events.MESSAGE_POSTED:
                if event["seq"] <= seq:
                    continue  # delivered already
                if event["seq"] != seq + 1:
                    return False
                seq = event["seq"]
                frames.append(event["frame"])
            elif kind == events.TYPING and event["sender"] == self.connection_id:
                continue  # my own
            elif (frame := frame_of(event)) is not None:
                frames.append(frame)
            else:
                return False
        if frames and not self.output.write_now(frames):
            return False
        stream.delivered(seq)
        return True

    async def _handle(self, batch: Sequence[Event]) -> None:
        for event in batch:
            if self.closed:
                return
            kind = event["type"]
            try:
                if kind == events.MESSAGE_POSTED:
                    await self.stream.deliver(seq=event["seq"], frame=event["frame"])
                elif kind == events.CATCH_UP:
                    # From the hub's tail check: a message stored but never broadcast here.
                    await self.stream.catch_up(through_seq=event["seq"])
                elif kind == events.MESSAGE_DELETED:
                    # Deliver up to the deleted seq first (from the log, as a tombstone), so a late
                    # live copy of the message can never show its body after the deletion.
                    await self.stream.catch_up(through_seq=event["seq"])
                    deleted = protocol.message_deleted_frame(message_id=event["id"], seq=event["seq"])
                    await self.output.write((ServerFrame.of(deleted),))
                elif kind == events.ACCESS_CHANGED:
                    await self.check_access()
                elif kind == events.TYPING and event["sender"] == self.connection_id:
                    continue
                elif (frame := frame_of(event)) is not None:
                    await self.output.write((frame,))
                else:
                    logger.warning("room %s: unknown event %r", self.room.pk, kind)
            except ChatLogUnavailable:
                return await self._unavailable()

    async def _unavailable(self) -> None:
        # A gap the log cannot fill ends the session: better a reconnect-and-resume than a hole.
        await self.output.end(UNAVAILABLE)


@contextlib.asynccontextmanager
async def _holding(sessions: Sequence[RoomSession]):
    """Every session's stream held for its own send (RoomStream.own_send); the common case of
    one session without an exit stack."""
    if len(sessions) == 1:
        async with sessions[0].stream.own_send() as show:
            yield [show]
        return
    async with contextlib.AsyncExitStack() as held:
        yield [await held.enter_async_context(session.stream.own_send()) for session in sessions]


async def post_message(
    *,
    room_id: int,
    user: dict,
    client_id: str,
    body: str,
    sessions: Sequence[RoomSession],
    answer: Callable[[Posted], Awaitable[None]],
) -> Posted:
    """Store a message, answer its sender, show it on the sender's `sessions` in that room (if
    it comes next there), then tell the room. Raises PostRejected.

    Each session's stream is held meanwhile, so that the room's copy of the message cannot
    reach the socket before its ack; the room is told once they are let go, so that the room's
    copy, when it comes back here, is dropped on the hub's turn instead of queueing behind the
    hold. Whatever became of the sender meanwhile, the room is told of a stored message."""
    posted = None
    try:
        async with _holding(sessions) as shows:
            posted = await message_store(
                room_id=room_id, user_id=user["id"], username=user["username"], client_id=client_id, body=body
            )
            await answer(posted)
            if posted.created:
                frame = ServerFrame("message.new", posted.frame_text)
                for show in shows:
                    await show(posted.message.seq, frame)
    finally:
        if posted is not None and posted.created:
            events.publish(room_id, events.message_posted(seq=posted.message.seq, text=posted.frame_text))
    return posted
