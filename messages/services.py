"""Posting messages: the one path every sender (WebSocket, API, STOMP) goes through.

Order matters: count the send and learn whether cached access is current (one Redis round
trip), authorize, check the posting rules and the rate limit (acknowledging instead a resend
of a message already stored), store, and only then broadcast. Nobody sees a message the log
has not stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone

from messages import protocol
from messages.access_cache import room_and_membership_for_send
from messages.access_stamps import membership_stamp_key, room_stamp_key
from messages.chatlog import AppendResult, ChatLogUnavailable, StoredMessage, get_chatlog
from messages.groups import batched_group_send, room_group
from messages.ratelimit import RateDecision, send_rate_hit
from messages.redis_client import REDIS_ERRORS
from rooms import policies
from rooms.models import Membership, Room

logger = logging.getLogger(__name__)


class PostRejected(Exception):
    """The message was not stored; `code` is a protocol error code."""

    def __init__(self, code: str, detail: str, **extra) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


@dataclass(frozen=True, slots=True)
class Posted:
    message: StoredMessage
    payload: dict  # the message's wire form
    frame_text: str  # the encoded `message.new` frame, encoded once for every recipient
    created: bool

    @classmethod
    def of(cls, message: StoredMessage, *, room_slug: str, created: bool) -> Posted:
        payload = protocol.message_payload(message, room_slug=room_slug)
        return cls(message, payload, protocol.encode(protocol.new_message_frame(payload)), created)


async def message_post(*, room_id: int, user_id: int, username: str, client_id: str, body: str) -> Posted:
    """Store a message and broadcast it to the room. Raises PostRejected."""
    posted = await message_store(room_id=room_id, user_id=user_id, username=username, client_id=client_id, body=body)
    await broadcast_posted(posted)
    return posted


async def message_store(*, room_id: int, user_id: int, username: str, client_id: str, body: str) -> Posted:
    """Everything message_post does but the broadcast, which the caller owes once it has
    answered its sender (`broadcast_posted`). Raises PostRejected.

    The room socket answers first: its ack and its own copy go out on this turn, before the
    PUBLISH, so the ack does not wait for a Redis round trip and the room's copy of the
    message, when it comes back, finds the socket free and already served."""
    chatlog = get_chatlog()
    try:
        try:
            decision = await send_rate_hit(
                user_id=user_id,
                room_id=room_id,
                stamp_keys=(room_stamp_key(room_id), membership_stamp_key(room_id, user_id)),
            )
        except REDIS_ERRORS:
            # Without the shared counter the limit cannot be enforced: refuse rather than flood.
            logger.exception("rate limiter unavailable for room %s", room_id)
            raise PostRejected(protocol.UNAVAILABLE, "Messages cannot be accepted right now; retry later.") from None
        room, membership = await room_and_membership_for_send(room_id=room_id, user_id=user_id, stamps=decision.stamps)
        if room is None:
            raise PostRejected(protocol.FORBIDDEN, "This room no longer exists.")
        if not policies.can_view(membership=membership, room=room):
            raise PostRejected(protocol.FORBIDDEN, "You are not allowed in this room.")
        try:
            _check_can_post(room, membership, decision)
        except PostRejected:
            # A resend of a message stored before the refusal is acknowledged, not refused:
            # its sender must learn that it went through.
            existing = await chatlog.find_by_client_id(room_id=room.pk, author_id=user_id, client_id=client_id)
            if existing is None:
                raise
            return Posted.of(existing, room_slug=room.slug, created=False)
        # Idempotent by client_id: a resend of a stored message comes back with created=False.
        result: AppendResult = await chatlog.append(
            room_id=room.pk, author_id=user_id, author_username=username, client_id=client_id, body=body
        )
    except ChatLogUnavailable:
        logger.exception("chat log unavailable while posting to room %s", room_id)
        raise PostRejected(protocol.UNAVAILABLE, "Messages cannot be stored right now; retry later.") from None
    return Posted.of(result.message, room_slug=room.slug, created=result.created)


def _check_can_post(room: Room, membership: Membership | None, decision: RateDecision) -> None:
    if room.is_read_only:
        raise PostRejected(protocol.FORBIDDEN, "This room is locked: it is read-only.")
    if policies.is_muted(membership=membership, now=timezone.now()):
        until = protocol.iso_utc(membership.muted_until)
        raise PostRejected(protocol.FORBIDDEN, f"You are muted until {until}.", muted_until=until)
    if not policies.can_post(membership=membership, room=room, now=timezone.now()):
        raise PostRejected(protocol.FORBIDDEN, "You cannot post in this room.")
    if not decision.allowed:
        raise rate_limited(decision.retry_after)


def rate_limited(retry_after: float) -> PostRejected:
    retry_after = round(retry_after, 2)
    return PostRejected(
        protocol.RATE_LIMITED, f"Too many messages; try again in {retry_after:g} s.", retry_after=retry_after
    )


async def broadcast_posted(posted: Posted) -> None:
    """Tell the room of a message just stored; a resend of a stored one tells nobody."""
    if posted.created:
        await broadcast_message(room_id=posted.message.room_id, seq=posted.message.seq, frame_text=posted.frame_text)


async def broadcast_message(*, room_id: int, seq: int, frame_text: str) -> None:
    """Tell every socket of the room, on every process. The frame is encoded once here, not
    once per recipient. A failure loses nothing: the message is stored, and consumers fill
    sequence gaps from the log."""
    # room_id: a STOMP connection subscribes to several rooms and routes each event by it.
    event = {"type": "chat.message", "room_id": room_id, "seq": seq, "text": frame_text}
    try:
        await batched_group_send(room_group(room_id), event)
    except Exception:
        logger.exception("broadcast to room %s failed; receivers will fill the gap from the log", room_id)
