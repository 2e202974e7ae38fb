"""Room events: what every socket of a room is told, on every process, and how it is sent.

A room event is emitted by the service that made the change, once the change is stored:
after the database commit for rooms and memberships (`send_on_commit`), after the chat log's
write for messages (`publish`, through the process's coalescing publisher). It travels through
the channel layer to each process's room hub (messages.realtime.hub), which hands it to that
room's sessions (messages.realtime.session); each kind becomes one frame of the protocol
(messages.realtime.protocol), the same on both endpoints.

On the channel layer (channels-redis, through its public interface):

- group `room.<id>`: `{"type": "room.events", "room_id": id, "events": [event, ...]}`, every
  room event, in batches of one room's events in the order they were emitted;
- group `user.<id>`: `{"type": "access.changed", "room_id": id}` (the user may have lost access
  to the room) and `{"type": "session.ended"}` (accounts.signals), for each socket of the user.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from accounts.signals import user_group

logger = logging.getLogger(__name__)

__all__ = ["room_group", "user_group"]

# The channel-layer message that carries room events.
ROOM_EVENTS = "room.events"

# The kinds of room event (`event["type"]`), and what each carries besides its type.
MESSAGE_POSTED = "message.posted"  # seq; text: the encoded `message.new` frame
MESSAGE_DELETED = "message.deleted"  # id, seq
ROOM_UPDATED = "room.updated"  # room: the room object
ACCESS_CHANGED = "access.changed"  # nothing: every session of the room checks its access again
MEMBER_UPDATED = "member.updated"  # user_id, username, role
MEMBER_LEFT = "member.left"  # user_id, username
PRESENCE = "presence"  # online: who is online, as in the `presence` frame
TYPING = "typing"  # user, active; sender: the session that typed, which is not told
CATCH_UP = "catch_up"  # seq: this process's hub found it stored and never broadcast (never sent)
# Between the hubs of the processes that serve a room (messages.realtime.peers), never to sessions.
HUB_HERE = "hub.here"  # hub: its channel; answer: whether the hubs that hear it should say they are here too
HUB_GONE = "hub.gone"  # hub: its channel

Event = dict[str, Any]


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def message_posted(*, seq: int, text: str) -> Event:
    return {"type": MESSAGE_POSTED, "seq": seq, "text": text}


def message_deleted(*, message_id: str, seq: int) -> Event:
    return {"type": MESSAGE_DELETED, "id": message_id, "seq": seq}


def room_updated(*, room: dict) -> Event:
    return {"type": ROOM_UPDATED, "room": room}


def member_updated(*, user_id: int, username: str, role: str) -> Event:
    return {"type": MEMBER_UPDATED, "user_id": user_id, "username": username, "role": role}


def member_left(*, user_id: int, username: str) -> Event:
    return {"type": MEMBER_LEFT, "user_id": user_id, "username": username}


def presence(*, online: list[dict]) -> Event:
    return {"type": PRESENCE, "online": online}


def typing(*, user: dict, active: bool, sender: str) -> Event:
    return {"type": TYPING, "user": user, "active": active, "sender": sender}


def hub_here(*, hub: str, answer: bool) -> Event:
    return {"type": HUB_HERE, "hub": hub, "answer": answer}


def hub_gone(*, hub: str) -> Event:
    return {"type": HUB_GONE, "hub": hub}


def room_message(room_id: int, events: list[Event], *, origin: str | None = None) -> dict[str, Any]:
    """The channel-layer message of `events`, all of room `room_id`; `origin` is the channel of
    the hub that sent it, which drops it when it comes back."""
    return {"type": ROOM_EVENTS, "room_id": room_id, "events": events, "origin": origin}


def send_on_commit(room_id: int, event: Event) -> None:
    """From synchronous code that changed the database: tell the room once the change commits
    (at once outside a transaction). A rolled-back change tells nobody."""
    transaction.on_commit(lambda: _send(room_group(room_id), room_message(room_id, [event])))


def access_changed_on_commit(*, room_id: int, user_id: int | None = None) -> None:
    """Someone may have lost access to the room (a ban, a removal, the room made private): the
    sessions concerned check again and end if they may no longer see it. With no `user_id`,
    every session of the room checks."""
    if user_id is None:
        send_on_commit(room_id, {"type": ACCESS_CHANGED})
    else:
        message = {"type": ACCESS_CHANGED, "room_id": room_id}
        transaction.on_commit(lambda: _send(user_group(user_id), message))


def _send(group: str, message: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        # The database change stands; sockets pick it up on their next send or reconnect.
        logger.exception("could not send %s to %s", message["type"], group)


def publish(room_id: int, event: Event) -> None:
    """From the event loop: tell the room: this process's sessions of it at once, and the other
    processes that serve it through the channel layer (messages.realtime.publisher). Never
    raises: a lost room event is healed from the chat log or the next `hello`."""
    from messages.realtime.publisher import get_publisher

    get_publisher().publish(room_id, event)
