"""Writes to rooms and memberships. Each function checks its rule (rooms.policies) before it
acts, and tells the room's open sockets once the change commits (messages.interface)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from messages import interface
from rooms import policies
from rooms.models import ROOM_SLUG_MAX_LENGTH, Membership, Room
from rooms.selectors import membership_get


def _unique_slug(name: str) -> str:
    # Names made only of emoji or non-Latin script slugify to nothing: fall back to a random slug.
    base = slugify(name)[: ROOM_SLUG_MAX_LENGTH - 7] or "room"
    slug = base
    while Room.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


@transaction.atomic
def room_create(
    *, creator: AbstractBaseUser, name: str, topic: str = "", is_private: bool = False, slug: str = ""
) -> Room:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A room needs a name."})
    if slug and Room.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": "A room with that address already exists."})
    room = Room(
        slug=slug or _unique_slug(name), name=name, topic=topic.strip(), is_private=is_private, created_by=creator
    )
    room.full_clean()
    room.save()
    Membership.objects.create(room=room, user=creator, role=Membership.Role.OWNER)
    return room


def room_join(*, room: Room, user: AbstractBaseUser) -> Membership:
    membership = membership_get(room=room, user=user)
    if policies.is_active_member(membership):
        return membership
    if not policies.can_join(membership=membership, room=room):
        raise PermissionDenied("You cannot join this room.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(room=room, user=user, role=Membership.Role.MEMBER)
            interface.member_updated_on_commit(membership)
    except IntegrityError:  # joined twice at once
        return Membership.objects.get(room=room, user=user)
    return membership


def room_leave(*, room: Room, user: AbstractBaseUser) -> None:
    """Leave a room. A ban is kept (leaving must not lift it); the last owner cannot leave."""
    membership = membership_get(room=room, user=user)
    if not policies.is_active_member(membership):
        return
    if (
        membership.role == Membership.Role.OWNER
        and not room.memberships.filter(role=Membership.Role.OWNER, banned_at__isnull=True)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError("The room's only owner cannot leave it.")
    with transaction.atomic():
        membership.delete()
        interface.member_left_on_commit(room_id=room.pk, user=user)


@transaction.atomic
def membership_add(
    *, room: Room, actor: AbstractBaseUser, username: str, role: str = Membership.Role.MEMBER
) -> Membership:
    """The owner of a room (or staff, in the admin) adds a member by username."""
    if not actor.is_staff and not policies.can_manage_members(membership=membership_get(room=room, user=actor)):
        raise PermissionDenied("Only the room's owner can add members.")
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise ValidationError({"username": f"There is no user called {username.strip()!r}."})
    membership, created = Membership.objects.get_or_create(room=room, user=user, defaults={"role": role})
    if not created and membership.is_banned:
        raise ValidationError({"username": f"{user} is banned from this room; unban them first."})
    if created:
        interface.member_updated_on_commit(membership)
    return membership


@transaction.atomic
def membership_remove(*, room: Room, actor: AbstractBaseUser, username: str) -> None:
    if not policies.can_manage_members(membership=membership_get(room=room, user=actor)):
        raise PermissionDenied("Only the room's owner can remove members.")
    membership = (
        Membership.objects.filter(room=room, user__username=username, banned_at__isnull=True)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise ValidationError({"username": f"{username!r} is not a member of this room."})
    if membership.role == Membership.Role.OWNER:
        raise ValidationError({"username": "The owner cannot be removed."})
    membership_delete(membership=membership)


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    """Delete a membership (the owner's removal above, or staff in the admin): the user's
    sockets in a private room close, and the room's Members lists drop them."""
    room_id, user = membership.room_id, membership.user
    membership.delete()
    interface.access_changed_on_commit(room_id=room_id, user_id=user.pk)
    if not membership.is_banned:
        interface.member_left_on_commit(room_id=room_id, user=user)
