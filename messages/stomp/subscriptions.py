"""A connection's room subscriptions: what SUBSCRIBE asked for, and where each one stands.

Each subscription has its own RoomStream (so each delivers its room in seq order, without
gaps, from the log when the channel layer drops or reorders) and its own presence entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from messages.consumers import RESUME_WINDOW_SECONDS, RESUMES_PER_WINDOW
from messages.delivery import RoomStream
from messages.presence import PresenceTracker
from messages.stomp.errors import INVALID_FRAME, RATE_LIMITED, TOO_MANY_SUBSCRIPTIONS, UNSUPPORTED, StompError
from messages.stomp.frames import Frame
from messages.throttle import WindowThrottle

MAX_SUBSCRIPTIONS = 32
# Room events a subscription can ask for with `x-events`; messages and deletions always come.
OPTIONAL_EVENTS = frozenset({"presence", "typing", "room.updated"})
AFTER_SEQ_MAX_DIGITS = 16


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
    if not (value.isascii() and value.isdigit() and len(value) <= AFTER_SEQ_MAX_DIGITS):
        raise StompError(INVALID_FRAME, "x-after-seq must be a non-negative integer.")
    return int(value)


def _events(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    events = frozenset(name.strip() for name in value.split(",") if name.strip())
    if not events <= OPTIONAL_EVENTS:
        raise StompError(INVALID_FRAME, f"x-events may list {', '.join(sorted(OPTIONAL_EVENTS))}.")
    return events


@dataclass(eq=False, slots=True)
class Subscription:
    id: str
    destination: str
    room_id: int
    room_slug: str
    events: frozenset[str]
    stream: RoomStream | None = None
    presence: PresenceTracker | None = None


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
            room_id, WindowThrottle(limit=RESUMES_PER_WINDOW, seconds=RESUME_WINDOW_SECONDS)
        )
        if wait := throttle.retry_after():
            raise StompError(
                RATE_LIMITED,
                f"At most {RESUMES_PER_WINDOW} resumes of a room per {RESUME_WINDOW_SECONDS} s.",
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
        return [sub for sub in self.by_id.values() if sub.room_id == room_id]

    def room_id_of(self, slug: str) -> int | None:
        return next((sub.room_id for sub in self.by_id.values() if sub.room_slug == slug), None)

    def all(self) -> list[Subscription]:
        return list(self.by_id.values())
