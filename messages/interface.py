"""What the rooms app may use of the messages app: all of it is here (tests/test_architecture.py).

messages builds on rooms (rooms, memberships and the rules of who may do what). rooms reaches
back only through this module: to tell a room's open sockets, on every process, what changed
once a change commits, and to read or delete messages for its pages and its admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from messages.chatlog import ChatLogUnavailable, StoredMessage, run_sync
from messages.realtime import events, protocol

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from rooms.models import Membership, Room

__all__ = [
    "ChatLogUnavailable",
    "StoredMessage",
    "access_changed_on_commit",
    "member_left_on_commit",
    "member_updated_on_commit",
    "message_delete",
    "messages_search",
    "recent_messages",
    "room_updated_on_commit",
]


def room_updated_on_commit(room: Room) -> None:
    """The room's name, topic, lock or archive changed: its sockets show the new room."""
    events.send_on_commit(room.pk, events.room_updated(room=protocol.room_payload(room)))


def access_changed_on_commit(*, room_id: int, user_id: int | None = None) -> None:
    """Someone may have lost the room (everyone in it, with no `user_id`): their sockets check."""
    events.access_changed_on_commit(room_id=room_id, user_id=user_id)


def member_updated_on_commit(membership: Membership) -> None:
    """Someone became a member, or their role changed: every open page's Members list shows it."""
    user = membership.user
    event = events.member_updated(user_id=user.pk, username=user.get_username(), role=membership.role)
    events.send_on_commit(membership.room_id, event)


def member_left_on_commit(*, room_id: int, user: AbstractBaseUser) -> None:
    """Someone is no longer a member (left, removed, banned)."""
    events.send_on_commit(room_id, events.member_left(user_id=user.pk, username=user.get_username()))


def recent_messages(*, room_id: int, limit: int) -> list[StoredMessage]:
    """The room's newest `limit` messages, oldest first. Raises ChatLogUnavailable."""
    return run_sync(lambda log: log.page_before(room_id=room_id, before_seq=None, limit=limit))


def messages_search(
    *, room_id: int, author_username: str | None, text: str | None, before_seq: int | None, limit: int
) -> list[StoredMessage]:
    """Moderation search, newest first (ChatLog.search). Raises ChatLogUnavailable."""
    return run_sync(
        lambda log: log.search(
            room_id=room_id, author_username=author_username, text=text, before_seq=before_seq, limit=limit
        )
    )


def message_delete(*, room: Room, actor: AbstractBaseUser, seq: int, reason: str = "") -> StoredMessage:
    """Tombstone a message as a moderator (messages.services.message_delete)."""
    from messages.services import message_delete as delete  # messages.services builds on rooms

    return delete(room=room, actor=actor, seq=seq, reason=reason)
