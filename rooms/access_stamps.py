"""Stamps that say "this room or this membership changed": set after every committed change.

The send path caches rooms and memberships per process (messages.posting.access_cache) and must still
refuse a muted user's very next send, on every process. So every saved or deleted Room or
Membership, from any code path (moderation, the admin, a cascade), sets a fresh random stamp
in Redis once its transaction commits; a sender's stamps come back in the same Redis round
trip as its rate-limit check (messages.posting.ratelimit), and a cached entry is used only while they
are unchanged. Random stamps, not counters: a counter that Redis lost could count back up to a
value a process still holds.

Queryset .update() and .delete() send no signals: code changing rooms or memberships in bulk
must call `stamp_room` / `stamp_membership` itself.
"""

from __future__ import annotations

import logging
import threading
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from chatproject.redis_clients import REDIS_ERRORS, get_sync_redis, redis_key
from rooms.models import Membership, Room

logger = logging.getLogger(__name__)

# Longer than any cached entry lives (messages.posting.access_cache.MAX_AGE_SECONDS), so an expired
# stamp can never read as "unchanged".
STAMP_TTL_SECONDS = 24 * 3600


def room_stamp_key(room_id: int) -> str:
    return redis_key("stamp", "room", room_id)


def membership_stamp_key(room_id: int, user_id: int) -> str:
    return redis_key("stamp", "member", room_id, user_id)


class _MemoryStamps:
    """The stamps of a process without Redis (which then is the only process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamps: dict[str, str] = {}

    def set(self, key: str) -> None:
        with self._lock:
            self._stamps[key] = uuid.uuid4().hex

    def get(self, key: str) -> str | None:
        return self._stamps.get(key)


memory_stamps = _MemoryStamps()


def _set_stamp(key: str) -> None:
    if not settings.REDIS_URL:
        memory_stamps.set(key)
        return
    try:
        get_sync_redis().set(key, uuid.uuid4().hex, ex=STAMP_TTL_SECONDS)
    except REDIS_ERRORS:
        # The change stands; cached entries see it when they expire (MAX_AGE_SECONDS).
        logger.exception("could not stamp %s: cached access may lag for a few seconds", key)


def stamp_room(room_id: int) -> None:
    transaction.on_commit(lambda: _set_stamp(room_stamp_key(room_id)))


def stamp_membership(room_id: int, user_id: int) -> None:
    transaction.on_commit(lambda: _set_stamp(membership_stamp_key(room_id, user_id)))


@receiver([post_save, post_delete], sender=Room, dispatch_uid="stamp_room")
def _room_changed(sender, instance: Room, **kwargs) -> None:
    stamp_room(instance.pk)


@receiver([post_save, post_delete], sender=Membership, dispatch_uid="stamp_membership")
def _membership_changed(sender, instance: Membership, **kwargs) -> None:
    stamp_membership(instance.room_id, instance.user_id)
