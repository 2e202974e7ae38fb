"""Live events that moderation sends to open sockets, on every process, after the commit."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from messages.groups import room_group, user_group

logger = logging.getLogger(__name__)


def _send(group: str, event: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:
        # The database change stands; sockets pick it up on their next send or reconnect.
        logger.exception("could not send %s to %s", event["type"], group)


def notify_access_changed(*, room_id: int, user_id: int | None = None) -> None:
    """Someone may have lost access to the room (a ban, a removal, the room made private):
    the affected sockets re-check and close with 4403 if they may no longer see it. With no
    `user_id`, every socket in the room re-checks."""
    event = {"type": "access.changed", "room_id": room_id}
    _send(user_group(user_id) if user_id is not None else room_group(room_id), event)


def notify_room_updated(*, room_id: int, room: dict) -> None:
    _send(room_group(room_id), {"type": "room.updated", "room_id": room_id, "room": room})


def notify_message_deleted(*, room_id: int, message_id: str, seq: int) -> None:
    _send(room_group(room_id), {"type": "chat.deleted", "room_id": room_id, "id": message_id, "seq": seq})
