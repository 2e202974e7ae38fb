"""Writes to the chat log: posting and deleting messages, the one path every caller takes.

Posting (the JSON endpoint, STOMP, the API): count the send and learn whether cached access
is current (one Redis round trip), authorize, check the posting rules and the rate limit
(acknowledging instead a resend of a message already stored), store, and only then tell the
room. Nobody sees a message the log has not stored. The room is told by the caller once it
has answered its sender (messages.realtime.session.post_message), or by `message_post`.

Deleting (a moderator, through the API or the admin): a tombstone in the log, an audit
entry, and a live `message.deleted` once the audit entry commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from chatproject.redis_clients import REDIS_ERRORS
from messages.chatlog import AppendResult, ChatLogUnavailable, StoredMessage, get_chatlog, run_sync
from messages.posting.access_cache import room_and_membership_for_send
from messages.posting.ratelimit import RateDecision, send_rate_hit
from messages.realtime import events, protocol
from rooms import policies
from rooms.access_stamps import membership_stamp_key, room_stamp_key
from rooms.models import Membership, ModerationAction, Room
from rooms.moderation import check_can_moderate_room

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
    """Store a message and tell the room. Raises PostRejected."""
    posted = await message_store(room_id=room_id, user_id=user_id, username=username, client_id=client_id, body=body)
    if posted.created:
        events.publish(room_id, events.message_posted(seq=posted.message.seq, text=posted.frame_text))
    return posted


async def message_store(*, room_id: int, user_id: int, username: str, client_id: str, body: str) -> Posted:
    """Everything message_post does but telling the room, which the caller owes once it has
    answered its sender (for a `Posted` with `created`). Raises PostRejected."""
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


def message_delete(*, room: Room, actor: AbstractBaseUser, seq: int, reason: str = "") -> StoredMessage:
    """Tombstone the message at `seq`. Raises ObjectDoesNotExist, PermissionDenied, or
    ChatLogUnavailable."""
    check_can_moderate_room(room, actor, action="delete messages")
    existing = run_sync(lambda log: log.get(room_id=room.pk, seq=seq))
    if existing is None:
        raise ObjectDoesNotExist(f"No message {seq} in this room.")
    if existing.is_deleted:
        return existing  # deleting twice changes nothing, so it is not logged or sent again
    tombstone = run_sync(lambda log: log.delete(room_id=room.pk, seq=seq))
    author_id = tombstone.author_id
    with transaction.atomic():
        ModerationAction.objects.create(
            room=room,
            actor=actor,
            kind=ModerationAction.Kind.DELETE_MESSAGE,
            target_user_id=author_id if get_user_model().objects.filter(pk=author_id).exists() else None,
            message_seq=seq,
            reason=reason,
        )
        events.send_on_commit(room.pk, events.message_deleted(message_id=tombstone.id, seq=seq))
    return tombstone
