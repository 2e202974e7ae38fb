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


def notify_member_banned(*, room_id: int, user_id: int) -> None:
    """Close the user's sockets in the room (4403)."""
    _send(user_group(user_id), {"type": "member.banned", "room_id": room_id})


def notify_room_updated(*, room_id: int, room: dict) -> None:
    _send(room_group(room_id), {"type": "room.updated", "room": room})


def notify_message_deleted(*, room_id: int, message_id: str, seq: int) -> None:
    _send(room_group(room_id), {"type": "chat.deleted", "id": message_id, "seq": seq})
