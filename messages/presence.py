"""Who is online in a room, across processes.

Each open socket holds an entry that expires after CHAT_PRESENCE_TTL_SECONDS unless its
consumer refreshes it, so the sockets of a process that died drop out by themselves.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from django.conf import settings

from messages.redis_client import REDIS_ERRORS, redis_key

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

    def touch(self, room_id: int, entry: str | None, remove: str | None) -> tuple[list[str], int]:
        now = time.time()
        with self._lock:
            room = self._rooms.setdefault(room_id, {})
            expired = [key for key, expiry in room.items() if expiry <= now]
            for key in expired:
                del room[key]
            if entry is not None:
                room[entry] = now + settings.CHAT_PRESENCE_TTL_SECONDS
            if remove is not None:
                room.pop(remove, None)
            return list(room), len(expired)

    def clear(self) -> None:
        with self._lock:
            self._rooms.clear()


memory_presence = _MemoryPresence()


async def _touch(room_id: int, *, entry: str | None = None, remove: str | None = None) -> tuple[list[str], int]:
    """Drop expired entries, add or refresh `entry`, remove `remove`; return the entries left
    and how many had expired."""
    if not settings.REDIS_URL:
        return memory_presence.touch(room_id, entry, remove)
    from messages.redis_client import get_redis

    key = redis_key("presence", room_id)
    now = time.time()
    ttl = settings.CHAT_PRESENCE_TTL_SECONDS
    async with get_redis().pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, "-inf", now)
        if entry is not None:
            pipe.zadd(key, {entry: now + ttl})
        if remove is not None:
            pipe.zrem(key, remove)
        pipe.zrange(key, 0, -1)
        pipe.expire(key, ttl * 2)
        results = await pipe.execute()
    return results[-2], results[0]


async def presence_join(*, room_id: int, user_id: int, username: str, connection_id: str) -> tuple[list[dict], bool]:
    """Mark a socket online; return who is online and whether that set of users changed."""
    entries, _ = await _touch(room_id)
    before = _users(entries)
    entries, _ = await _touch(room_id, entry=_entry(user_id, username, connection_id))
    after = _users(entries)
    return after, after != before


async def presence_refresh(*, room_id: int, user_id: int, username: str, connection_id: str) -> tuple[list[dict], bool]:
    """Keep a socket online; say whether expired sockets (of a dead process) dropped out."""
    entries, expired = await _touch(room_id, entry=_entry(user_id, username, connection_id))
    return _users(entries), expired > 0


async def presence_leave(*, room_id: int, user_id: int, username: str, connection_id: str) -> tuple[list[dict], bool]:
    entries, _ = await _touch(room_id)
    before = _users(entries)
    entries, _ = await _touch(room_id, remove=_entry(user_id, username, connection_id))
    after = _users(entries)
    return after, after != before


class PresenceTracker:
    """One socket's place in its room's presence: join, keep alive, leave, and tell the room
    when the set of people online changes. Presence is best effort: a Redis failure is logged,
    never fatal to the socket, and heals by expiry."""

    def __init__(self, *, room_id: int, user: dict, connection_id: str, broadcast) -> None:
        self.key = {
            "room_id": room_id,
            "user_id": user["id"],
            "username": user["username"],
            "connection_id": connection_id,
        }
        self.broadcast = broadcast  # async (online: list[dict]) -> None
        self.task: asyncio.Task | None = None

    async def join(self) -> list[dict]:
        try:
            online, changed = await presence_join(**self.key)
            if changed:
                await self.broadcast(online)
        except REDIS_ERRORS:
            logger.exception("presence join failed")
            return []
        self.task = asyncio.create_task(self._keep_alive())
        return online

    async def leave(self) -> None:
        self.stop()
        try:
            online, changed = await presence_leave(**self.key)
            if changed:
                await self.broadcast(online)
        except REDIS_ERRORS:
            logger.exception("presence leave failed; the entry expires by itself")

    def stop(self) -> None:
        """Stop refreshing. Must run however the socket ends, or the entry would live on."""
        if self.task is not None:
            self.task.cancel()
            self.task = None

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(settings.CHAT_PRESENCE_TTL_SECONDS / 3)
            try:
                online, healed = await presence_refresh(**self.key)
                if healed:
                    await self.broadcast(online)
            except REDIS_ERRORS:
                logger.exception("presence refresh failed; will retry")
