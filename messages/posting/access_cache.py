"""The room and the sender's membership for the send path, cached per process.

Reading both from the database on every send would cost the send path more than everything
else it does (docs/performance-analysis.md). An
entry is used only while the stamps it was read under are current (rooms.access_stamps),
which the send path learns in the round trip it makes anyway for the rate limit; so a mute, a
ban or a lock applies to the very next send on every process, as before.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict
from dataclasses import dataclass

from messages.async_orm import aroom_and_membership, aroom_and_memberships
from rooms.models import Membership, Room

logger = logging.getLogger(__name__)

# A safety net for a stamp that could not be written (Redis down during a change): an entry
# is read again once it is this old (drawn between half of it and all of it, so that entries
# read together, like every sender's at start, come due apart). Until twice this age the read
# happens beside the send that finds the entry due, which still uses it; after that, before:
# reading before every due send would hold a busy server's sends behind those reads.
MAX_AGE_SECONDS = 10.0
MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class _Entry:
    stamps: tuple[str | None, ...]
    due_at: float  # read again from here on, beside the send
    expires_at: float  # read again before the send
    room: Room | None
    membership: Membership | None


_entries: OrderedDict[tuple[int, int], _Entry] = OrderedDict()
_room_users: dict[int, set[int]] = {}  # room_id -> the users with an entry for it
_refreshing: dict[int, asyncio.Task] = {}  # room_id -> its safety-net read in flight


async def room_and_membership_for_send(
    *, room_id: int, user_id: int, stamps: tuple[str | None, ...]
) -> tuple[Room | None, Membership | None]:
    """The room and the user's membership, current as of `stamps` (read before this call)."""
    key = (room_id, user_id)
    entry = _entries.get(key)
    now = time.monotonic()
    if entry is not None and entry.stamps == stamps and now < entry.expires_at:
        if now >= entry.due_at and room_id not in _refreshing:
            _refreshing[room_id] = asyncio.create_task(_refresh_room(room_id))
        return entry.room, entry.membership
    return await _read(key, stamps)


async def _read(key: tuple[int, int], stamps: tuple[str | None, ...]) -> tuple[Room | None, Membership | None]:
    # Stamps first, database second: a change between the two leaves the entry with stamps
    # older than its data, which costs one extra read, never a stale answer.
    room_id, user_id = key
    room, membership = await aroom_and_membership(user_id=user_id, pk=room_id)
    _store(key, stamps, room, membership, read_at=time.monotonic())
    return room, membership


async def _refresh_room(room_id: int) -> None:
    """The safety-net read for every entry of the room that is due, or will be within half
    the limit, in one read of the room and its memberships; each entry keeps the stamps it
    holds, which were read before this read of the database.

    One read per room, not per sender: a busy room's senders come due every few seconds."""
    try:
        horizon = time.monotonic() + MAX_AGE_SECONDS / 2
        held: dict[int, tuple[str | None, ...]] = {}
        for user_id in _room_users.get(room_id, ()):
            entry = _entries.get((room_id, user_id))
            if entry is not None and entry.due_at <= horizon:
                held[user_id] = entry.stamps
        room, memberships = await aroom_and_memberships(room_id=room_id, user_ids=list(held))
        read_at = time.monotonic()
        for user_id, stamps in held.items():
            entry = _entries.get((room_id, user_id))
            if entry is not None and entry.stamps == stamps:  # else read since, under newer stamps
                _store((room_id, user_id), stamps, room, memberships.get(user_id), read_at=read_at)
    except Exception:  # the database is away: the entries stay due, and expire in time
        logger.warning("could not refresh the cached access of room %s", room_id, exc_info=True)
    finally:
        _refreshing.pop(room_id, None)


def _store(
    key: tuple[int, int],
    stamps: tuple[str | None, ...],
    room: Room | None,
    membership: Membership | None,
    *,
    read_at: float,
) -> None:
    due_at = read_at + MAX_AGE_SECONDS * random.uniform(0.5, 1.0)  # noqa: S311
    _entries[key] = _Entry(stamps, due_at, read_at + 2 * MAX_AGE_SECONDS, room, membership)
    _entries.move_to_end(key)
    _room_users.setdefault(key[0], set()).add(key[1])
    if len(_entries) > MAX_ENTRIES:
        (room_id, user_id), _ = _entries.popitem(last=False)
        users = _room_users[room_id]
        users.discard(user_id)
        if not users:
            del _room_users[room_id]
