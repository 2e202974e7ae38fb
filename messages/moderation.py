"""Deleting messages: a tombstone in the log, an audit entry, and a live `message.deleted`."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist

from messages import events
from messages.chatlog import StoredMessage, run_sync
from rooms.models import ModerationAction, Room
from rooms.moderation import check_can_moderate_room


def message_delete(*, room: Room, actor: AbstractBaseUser, seq: int, reason: str = "") -> StoredMessage:
    """Raises ObjectDoesNotExist, PermissionDenied, or ChatLogUnavailable."""
    check_can_moderate_room(room, actor, action="delete messages")
    existing = run_sync(lambda log: log.get(room_id=room.pk, seq=seq))
    if existing is None:
        raise ObjectDoesNotExist(f"No message {seq} in this room.")
    if existing.is_deleted:
        return existing  # deleting twice changes nothing, so it is not logged or sent again
    tombstone = run_sync(lambda log: log.delete(room_id=room.pk, seq=seq))
    author_id = tombstone.author_id
    ModerationAction.objects.create(
        room=room,
        actor=actor,
        kind=ModerationAction.Kind.DELETE_MESSAGE,
        target_user_id=author_id if _user_exists(author_id) else None,
        message_seq=seq,
        reason=reason,
    )
    events.notify_message_deleted(room_id=room.pk, message_id=tombstone.id, seq=seq)
    return tombstone


def _user_exists(user_id: int) -> bool:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).exists()
