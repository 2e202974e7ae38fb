"""The room and the sender's membership for the send path, cached per process.

Reading both from the database on every send was a fifth of the server's CPU under load. An
entry is used only while the stamps it was read under are current (messages.access_stamps),
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

from messages.db import aroom_and_membership
from rooms.models import Membership, Room

logger = logging.getLogger(__name__)

# A safety net for a stamp that could not be written (Redis down during a change): an entry
# is read again once it is this old (drawn between half of it and all of it, so that entries
# read together, like every sender's at start, come due apart). Until twice this age the read
# happens beside the send that finds the entry due, which still uses it; after that, before.
# Reading before every due send held a busy server's sends behind those reads: 200 at once
# every 10 s set the p99 from half the server's capacity on.
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
_refreshing: dict[tuple[int, int], asyncio.Task] = {}


async def room_and_membership_for_send(
    *, room_id: int, user_id: int, stamps: tuple[str | None, ...]
) -> tuple[Room | None, Membership | None]:
    """The room and the user's membership, current as of `stamps` (read before this call)."""
    key = (room_id, user_id)
    entry = _entries.get(key)
    now = time.monotonic()
    if entry is not None and entry.stamps == stamps and now < entry.expires_at:
        if now >= entry.due_at and key not in _refreshing:
            _refreshing[key] = asyncio.create_task(_refresh(key, stamps))
        return entry.room, entry.membership
    return await _read(key, stamps)


async def _read(key: tuple[int, int], stamps: tuple[str | None, ...]) -> tuple[Room | None, Membership | None]:
    # Stamps first, database second: a change between the two leaves the entry with stamps
    # older than its data, which costs one extra read, never a stale answer.
    room_id, user_id = key
    room, membership = await aroom_and_membership(user_id=user_id, pk=room_id)
    read_at = time.monotonic()
    due_at = read_at + MAX_AGE_SECONDS * random.uniform(0.5, 1.0)  # noqa: S311
    _entries[key] = _Entry(stamps, due_at, read_at + 2 * MAX_AGE_SECONDS, room, membership)
    _entries.move_to_end(key)
    if len(_entries) > MAX_ENTRIES:
        _entries.popitem(last=False)
    return room, membership


async def _refresh(key: tuple[int, int], stamps: tuple[str | None, ...]) -> None:
    try:
        await _read(key, stamps)
    except Exception:  # the database is away: the entry stays due, and expires in time
        logger.warning("could not refresh the cached access of %s", key, exc_info=True)
    finally:
        _refreshing.pop(key, None)
