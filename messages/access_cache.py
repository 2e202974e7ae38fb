"""The room and the sender's membership for the send path, cached per process.

Reading both from the database on every send was a fifth of the server's CPU under load. An
entry is used only while the stamps it was read under are current (messages.access_stamps),
which the send path learns in the round trip it makes anyway for the rate limit; so a mute, a
ban or a lock applies to the very next send on every process, as before.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from messages.db import aroom_and_membership
from rooms.models import Membership, Room

# A safety net for a stamp that could not be written (Redis down during a change).
MAX_AGE_SECONDS = 10.0
MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class _Entry:
    stamps: tuple[str | None, ...]
    read_at: float
    room: Room | None
    membership: Membership | None


_entries: OrderedDict[tuple[int, int], _Entry] = OrderedDict()


async def room_and_membership_for_send(
    *, room_id: int, user_id: int, stamps: tuple[str | None, ...]
) -> tuple[Room | None, Membership | None]:
    """The room and the user's membership, current as of `stamps` (read before this call)."""
    key = (room_id, user_id)
    entry = _entries.get(key)
    now = time.monotonic()
    if entry is not None and entry.stamps == stamps and now - entry.read_at < MAX_AGE_SECONDS:
        return entry.room, entry.membership
    # Stamps first, database second: a change between the two leaves the entry with stamps
    # older than its data, which costs one extra read, never a stale answer.
    room, membership = await aroom_and_membership(user_id=user_id, pk=room_id)
    _entries[key] = _Entry(stamps, now, room, membership)
    _entries.move_to_end(key)
    if len(_entries) > MAX_ENTRIES:
        _entries.popitem(last=False)
    return room, membership
