"""Who is online in a room, across processes.

Each open socket holds an entry that expires after CHAT_PRESENCE_TTL_SECONDS unless its
process refreshes it, so the sockets of a process that died drop out by themselves.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Collection

from django.conf import settings

from chatproject.per_loop import PerLoop
from chatproject.redis_clients import REDIS_ERRORS, redis_key
from messages.realtime import events

logger = logging.getLogger(__name__)


def _entry(user_id: int, username: str, connection_id: str) -> str:
    return f"{user_id}:{connection_id}:{username}"  # usernames cannot hold ':'; ids come first


def _users(entries) -> list[dict]:
    users = {}
    for entry in entries:
        user_id, _, username = entry.split(":", 2)
        users[int(user_id)] = username
    return [{"id": uid, "username": name} for uid, name in sorted(users.items(), key=lambda item: item[1].lower())]


class _MemoryPresence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[int, dict[str, float]] = {}

    def touch(self, room_id: int, entries: Collection[str], remove: str | None) -> tuple[list[str], int]:
        now = time.time()
        with self._lock:
            room = self._rooms.setdefault(room_id, {})
            expired = [key for key, expiry in room.items() if expiry <= now]
            for key in expired:
                del room[key]
            for entry in entries:
                room[entry] = now + settings.CHAT_PRESENCE_TTL_SECONDS
            if remove is not None:
                room.pop(remove, None)
            return list(room), len(expired)

    def clear(self) -> None:
        with self._lock:
            self._rooms.clear()


memory_presence = _MemoryPresence()

Touched = tuple[list[str], int]  # the entries left, and how many had expired


async def _touch_rooms(changes: dict[int, tuple[Collection[str], str | None]]) -> dict[int, Touched]:
    """For each room: drop expired entries, add or refresh `entries`, remove `remove`. One
    Redis round trip for all of them, on the loop's lean connection
    (chatproject.redis_clients.batch), shared with every other socket's presence change and
    send in the same turn: when hundreds of sockets join or leave at once, they do not each
    take a connection of their own."""
    if not settings.REDIS_URL:
        return {room_id: memory_presence.touch(room_id, *change) for room_id, change in changes.items()}
    from chatproject.redis_clients.batch import batched_all

    now = time.time()
    ttl = settings.CHAT_PRESENCE_TTL_SECONDS
    commands: list[tuple] = []
    for room_id, (entries, remove) in changes.items():
        key = redis_key("presence", room_id)
        commands.append(("ZREMRANGEBYSCORE", key, "-inf", now))
        if entries:
            commands.append(("ZADD", key, *(part for entry in entries for part in (now + ttl, entry))))
        if remove is not None:
            commands.append(("ZREM", key, remove))
        commands.append(("ZRANGE", key, 0, -1))
        commands.append(("EXPIRE", key, math.ceil(ttl * 2)))
    results = iter(await batched_all(*commands))
    touched = {}
    for room_id, (entries, remove) in changes.items():
        expired = next(results)
        replies = [next(results) for _ in range(bool(entries) + (remove is not None) + 2)]
        touched[room_id] = (replies[-2], expired)
    return touched


async def _touch(room_id: int, *, entry: str | None = None, remove: str | None = None) -> Touched:
    changes = {room_id: (() if entry is None else (entry,), remove)}
    return (await _touch_rooms(changes))[room_id]


def broadcast_presence(room_id: int, online: list[dict]) -> None:
    events.publish(room_id, events.presence(online=online))


async def _changed(room_id: int, **change: str) -> tuple[list[dict], bool]:
    """Who is online after `change` (`_touch`'s entry or remove), and whether the set of users changed."""
    entries, _ = await _touch(room_id)
    before = _users(entries)
    entries, _ = await _touch(room_id, **change)
    after = _users(entries)
    return after, after != before


async def presence_join(*, room_id: int, user_id: int, username: str, connection_id: str) -> tuple[list[dict], bool]:
    """Mark a socket online; return who is online and whether that set of users changed."""
    return await _changed(room_id, entry=_entry(user_id, username, connection_id))


async def presence_leave(*, room_id: int, user_id: int, username: str, connection_id: str) -> tuple[list[dict], bool]:
    return await _changed(room_id, remove=_entry(user_id, username, connection_id))


class PresenceKeeper:
    """Keeps the process's sockets online: every CHAT_PRESENCE_TTL_SECONDS / 3, one Redis round
    trip refreshes every entry of every room here (one per socket would keep a server with
    many idle sockets busy). A refresh that finds expired entries (the sockets of a
    process that died) tells that room who is online now."""

    def __init__(self) -> None:
        self.rooms: dict[int, set[str]] = {}
        self._task: asyncio.Task | None = None
        # A socket that leaves waits for a refresh in flight, which could otherwise put its
        # entry back after its removal.
        self.lock = asyncio.Lock()

    def add(self, room_id: int, entry: str) -> None:
        self.rooms.setdefault(room_id, set()).add(entry)
        if self._task is None:
            self._task = asyncio.create_task(self._keep_alive())

    def discard(self, room_id: int, entry: str) -> None:
        entries = self.rooms.get(room_id, set())
        entries.discard(entry)
        if not entries:
            self.rooms.pop(room_id, None)

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(settings.CHAT_PRESENCE_TTL_SECONDS / 3)
            try:
                async with self.lock:
                    touched = await _touch_rooms(
                        {room_id: (tuple(entries), None) for room_id, entries in self.rooms.items()}
                    )
                for room_id, (entries, expired) in touched.items():
                    if expired:
                        broadcast_presence(room_id, _users(entries))
            except REDIS_ERRORS:
                logger.exception("presence refresh failed; will retry")


_keepers = PerLoop(PresenceKeeper)


def get_keeper() -> PresenceKeeper:
    return _keepers.get()


class PresenceTracker:
    """One socket's place in its room's presence: join, stay (through the process's keeper),
    leave, and tell the room when the set of people online changes. Presence is best effort:
    a Redis failure is logged, never fatal to the socket, and heals by expiry."""

    def __init__(self, *, room_id: int, user: dict, connection_id: str) -> None:
        self.key = {
            "room_id": room_id,
            "user_id": user["id"],
            "username": user["username"],
            "connection_id": connection_id,
        }
        self.entry = _entry(user["id"], user["username"], connection_id)
        self.kept = False

    async def join(self) -> list[dict]:
        try:
            online, changed = await presence_join(**self.key)
            if changed:
                broadcast_presence(self.key["room_id"], online)
        except REDIS_ERRORS:
            logger.exception("presence join failed")
            return []
        get_keeper().add(self.key["room_id"], self.entry)
        self.kept = True
        return online

    async def leave(self) -> None:
        keeper = get_keeper()
        async with keeper.lock:
            self.stop()
        try:
            online, changed = await presence_leave(**self.key)
            if changed:
                broadcast_presence(self.key["room_id"], online)
        except REDIS_ERRORS:
            logger.exception("presence leave failed; the entry expires by itself")

    def stop(self) -> None:
        """Stop refreshing. Must run however the socket ends, or the entry would live on."""
        if self.kept:
            get_keeper().discard(self.key["room_id"], self.entry)
            self.kept = False
