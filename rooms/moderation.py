"""Moderation: mute, ban, lock, archive, roles. The rules are rooms.policies; the admin, the API
and the pages all act through these functions (and messages.services.message_delete for
messages), so every action obeys the same rules, is written to the audit log and takes
effect at once on every socket (messages.interface)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from messages import interface
from rooms import policies
from rooms.models import Membership, ModerationAction, Room
from rooms.selectors import membership_get

Kind = ModerationAction.Kind


def _target_membership(room: Room, username: str, *, may_create: bool) -> Membership:
    """The target's membership. Muting or banning someone who never joined a public room needs
    a row to hold the mute or ban (an unsaved one is returned); in a private room only members
    can be moderated, so moderation can never make anyone a member."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"username": f"There is no user called {username!r}."})
    membership = Membership.objects.filter(room=room, user=user).first()
    if membership is not None:
        return membership
    if not may_create or room.is_private:
        raise ValidationError({"username": f"{username} is not a member of this room."})
    return Membership(room=room, user=user)


def _save(target: Membership, fields: list[str]) -> None:
    if target.pk is None:
        target.save()
    else:
        target.save(update_fields=fields)


def _check_can_moderate_member(room: Room, actor: AbstractBaseUser, target: Membership) -> None:
    if target.user_id == actor.pk:
        raise PermissionDenied("You cannot moderate yourself.")
    if not policies.can_moderate_member(
        actor=membership_get(room=room, user=actor), target=target, actor_is_staff=actor.is_staff
    ):
        raise PermissionDenied("You cannot moderate this member.")


def check_can_moderate_room(room: Room, actor: AbstractBaseUser, *, action: str = "do that") -> None:
    """Raise PermissionDenied unless `actor` may moderate the room (lock it, delete messages)."""
    if not policies.can_moderate_room(actor=membership_get(room=room, user=actor), actor_is_staff=actor.is_staff):
        raise PermissionDenied(f"Only the room's owner and moderators can {action}.")


def _log(room: Room, actor: AbstractBaseUser, kind: str, *, target: Membership | None = None, **fields) -> None:
    ModerationAction.objects.create(
        room=room, actor=actor, kind=kind, target_user=target.user if target else None, **fields
    )


@transaction.atomic
def membership_mute(
    *, room: Room, actor: AbstractBaseUser, username: str, until: datetime, reason: str = ""
) -> Membership:
    if until <= timezone.now():
        raise ValidationError({"until": "A mute must end in the future."})
    target = _target_membership(room, username, may_create=True)
    _check_can_moderate_member(room, actor, target)
    target.muted_until = until
    _save(target, ["muted_until"])
    _log(room, actor, Kind.MUTE, target=target, reason=reason, detail=f"until {until.isoformat()}")
    return target


@transaction.atomic
def membership_unmute(*, room: Room, actor: AbstractBaseUser, username: str) -> Membership:
    target = _target_membership(room, username, may_create=False)
    _check_can_moderate_member(room, actor, target)
    target.muted_until = None
    _save(target, ["muted_until"])
    _log(room, actor, Kind.UNMUTE, target=target)
    return target


@transaction.atomic
def membership_ban(*, room: Room, actor: AbstractBaseUser, username: str, reason: str = "") -> Membership:
    target = _target_membership(room, username, may_create=True)
    _check_can_moderate_member(room, actor, target)
    target.banned_at, target.banned_by, target.ban_reason = timezone.now(), actor, reason
    _save(target, ["banned_at", "banned_by", "ban_reason"])
    _log(room, actor, Kind.BAN, target=target, reason=reason)
    interface.access_changed_on_commit(room_id=room.pk, user_id=target.user_id)
    interface.member_left_on_commit(room_id=room.pk, user=target.user)
    return target


@transaction.atomic
def membership_unban(*, room: Room, actor: AbstractBaseUser, username: str) -> Membership:
    target = _target_membership(room, username, may_create=False)
    _check_can_moderate_member(room, actor, target)
    target.banned_at, target.banned_by, target.ban_reason = None, None, ""
    _save(target, ["banned_at", "banned_by", "ban_reason"])
    _log(room, actor, Kind.UNBAN, target=target)
    interface.member_updated_on_commit(target)  # a banned member who is unbanned is a member again
    return target


@transaction.atomic
def membership_set_role(*, room: Room, actor: AbstractBaseUser, username: str, role: str) -> Membership:
    target = _target_membership(room, username, may_create=False)
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"A role is one of {', '.join(Membership.Role.values)}."})
    if target.role == role:
        return target
    if not policies.can_set_role(
        actor=membership_get(room=room, user=actor), target=target, role=role, actor_is_staff=actor.is_staff
    ):
        raise PermissionDenied("You cannot give this member that role.")
    previous, target.role = target.role, role
    _save(target, ["role"])
    _log(room, actor, Kind.SET_ROLE, target=target, detail=f"{previous} → {role}")
    if not target.is_banned:
        interface.member_updated_on_commit(target)
    return target


@transaction.atomic
def room_set_locked(*, room: Room, actor: AbstractBaseUser, locked: bool, reason: str = "") -> Room:
    check_can_moderate_room(room, actor)
    room.is_locked = locked
    room.save(update_fields=["is_locked"])
    _log(room, actor, Kind.LOCK if locked else Kind.UNLOCK, reason=reason)
    interface.room_updated_on_commit(room)
    return room


@transaction.atomic
def room_set_archived(*, room: Room, actor: AbstractBaseUser, archived: bool) -> Room:
    if not policies.can_archive(actor=membership_get(room=room, user=actor), actor_is_staff=actor.is_staff):
        raise PermissionDenied("Only the room's owner or staff can archive it.")
    room.is_archived = archived
    room.save(update_fields=["is_archived"])
    _log(room, actor, Kind.ARCHIVE if archived else Kind.UNARCHIVE)
    interface.room_updated_on_commit(room)
    return room


@transaction.atomic
def room_save_by_staff(*, room: Room, changed: Collection[str]) -> Room:
    """Save what staff changed in the admin: the room's sockets show its new name or topic, and
    a room made private closes the sockets of those no longer allowed in."""
    room.save()
    if changed:
        interface.room_updated_on_commit(room)
    if "is_private" in changed:
        interface.access_changed_on_commit(room_id=room.pk)
    return room
