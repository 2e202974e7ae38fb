"""A connection's room subscriptions: what SUBSCRIBE asked for, and each one's room session.

Each subscription is a room session (messages.realtime.session) whose output writes the
session's frames as this subscription's MESSAGE frames (messages.stomp.outbound): so each
delivers its room in seq order, without gaps, from the log when the channel layer drops or
reorders, and counts as online in its room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from messages.realtime import protocol
from messages.realtime.protocol import ServerFrame
from messages.realtime.session import RoomSession
from messages.realtime.throttle import WindowThrottle
from messages.stomp.errors import INVALID_FRAME, RATE_LIMITED, TOO_MANY_SUBSCRIPTIONS, UNSUPPORTED, StompError
from messages.stomp.frames import Frame

MAX_SUBSCRIPTIONS = 32


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    id: str
    destination: str
    after_seq: int | None
    events: frozenset[str]

    @classmethod
    def of(cls, frame: Frame, *, version: str) -> SubscribeRequest:
        destination = frame.header("destination")
        if not destination:
            raise StompError(INVALID_FRAME, "SUBSCRIBE needs a destination header.")
        sub_id = frame.header("id")
        if version == "1.0" and sub_id is None:
            sub_id = destination  # 1.0 made `id` optional; MESSAGE frames then name the destination
        if not sub_id:
            raise StompError(INVALID_FRAME, "SUBSCRIBE needs an id header.")
        if frame.header("ack", "auto") != "auto":
            raise StompError(
                UNSUPPORTED, "Only ack:auto is supported: messages stay in the log, resume with x-after-seq instead."
            )
        return cls(sub_id, destination, _after_seq(frame.header("x-after-seq")), _events(frame.header("x-events")))


def _after_seq(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return protocol.parse_after_seq_text(value)
    except protocol.ProtocolError as error:
        raise StompError(INVALID_FRAME, "x-" + error.detail) from None


def _events(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    events = frozenset(name.strip() for name in value.split(",") if name.strip())
    if not events <= protocol.OPTIONAL_ROOM_FRAME_KINDS:
        raise StompError(INVALID_FRAME, f"x-events may list {', '.join(sorted(protocol.OPTIONAL_ROOM_FRAME_KINDS))}.")
    return events


class Connection(Protocol):
    """The STOMP connection a subscription writes through (messages.stomp.consumer)."""

    def write_messages_now(self, sub: Subscription, frames: Sequence[ServerFrame]) -> bool: ...

    async def write_messages(self, sub: Subscription, frames: Sequence[ServerFrame]) -> None: ...

    async def end_subscription(self, sub: Subscription, reason: str) -> None: ...


@dataclass(eq=False)
class Subscription:
    """One SUBSCRIBE, and the output of its room session."""

    id: str
    destination: str
    events: frozenset[str]  # the optional frame kinds it asked for
    connection: Connection
    session: RoomSession | None = None

    @property
    def room_id(self) -> int:
        return self.session.room.pk

    @property
    def room_slug(self) -> str:
        return self.session.room.slug

    def wanted(self, frames: Sequence[ServerFrame]) -> list[ServerFrame]:
        return [
            frame for frame in frames if protocol.ROOM_FRAME_KINDS.get(frame.kind, True) or frame.kind in self.events
        ]

    # The room session's output (messages.realtime.session.SessionOutput).
    def write_now(self, frames: Sequence[ServerFrame]) -> bool:
        return self.connection.write_messages_now(self, self.wanted(frames))

    async def write(self, frames: Sequence[ServerFrame]) -> None:
        await self.connection.write_messages(self, self.wanted(frames))

    async def end(self, reason: str) -> None:
        await self.connection.end_subscription(self, reason)


@dataclass
class Subscriptions:
    by_id: dict[str, Subscription] = field(default_factory=dict)
    resumes: dict[int, WindowThrottle] = field(default_factory=dict)  # by room id

    def check_new(self, sub_id: str) -> None:
        if sub_id in self.by_id:
            raise StompError(INVALID_FRAME, f"Subscription id {sub_id[:40]!r} is already in use.")
        if len(self.by_id) >= MAX_SUBSCRIPTIONS:
            raise StompError(TOO_MANY_SUBSCRIPTIONS, f"At most {MAX_SUBSCRIPTIONS} subscriptions per connection.")

    def count_resume(self, room_id: int) -> None:
        """Replays are costly to serve and cheap to ask for: the JSON endpoint's limit, per room
        (not per connection, so that a client resuming many rooms at once is not refused)."""
        throttle = self.resumes.setdefault(
            room_id, WindowThrottle(limit=protocol.RESUMES_PER_WINDOW, seconds=protocol.RESUME_WINDOW_SECONDS)
        )
        if wait := throttle.retry_after():
            raise StompError(
                RATE_LIMITED,
                f"At most {protocol.RESUMES_PER_WINDOW} resumes of a room per {protocol.RESUME_WINDOW_SECONDS} s.",
                **{"retry-after": f"{wait:.2f}"},
            )

    def add(self, sub: Subscription) -> None:
        self.by_id[sub.id] = sub

    def pop(self, sub_id: str) -> Subscription:
        sub = self.by_id.pop(sub_id, None)
        if sub is None:
            raise StompError(INVALID_FRAME, f"There is no subscription with id {sub_id[:40]!r}.")
        return sub

    def in_room(self, room_id: int | None) -> list[Subscription]:
        return [sub for sub in self.by_id.values() if sub.session is not None and sub.room_id == room_id]

    def room_id_of(self, slug: str) -> int | None:
        return next((sub.room_id for sub in self.by_id.values() if sub.session and sub.room_slug == slug), None)
