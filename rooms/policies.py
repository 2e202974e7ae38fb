"""Who may do what in a room: every rule, as pure functions, for the pages, the API, both socket
endpoints and the admin alike (moderation included: rooms.moderation applies these).

`membership` is the user's row for the room or None; rules never touch the database.
"""

from __future__ import annotations

from datetime import datetime

from rooms.models import Membership, Room

MANAGING_ROLES = {Membership.Role.OWNER, Membership.Role.MODERATOR}


def is_active_member(membership: Membership | None) -> bool:
    return membership is not None and not membership.is_banned


def can_view(*, membership: Membership | None, room: Room) -> bool:
    """Read a room's messages and open its socket. Public rooms are open to any signed-in user."""
    if membership is not None and membership.is_banned:
        return False
    return not room.is_private or is_active_member(membership)


def can_join(*, membership: Membership | None, room: Room) -> bool:
    return not room.is_private and not room.is_archived and membership is None


def is_muted(*, membership: Membership | None, now: datetime) -> bool:
    return membership is not None and membership.muted_until is not None and membership.muted_until > now


def can_post(*, membership: Membership | None, room: Room, now: datetime) -> bool:
    return (
        can_view(membership=membership, room=room)
        and not room.is_read_only
        and not is_muted(membership=membership, now=now)
    )


def can_manage_members(*, membership: Membership | None) -> bool:
    """Add or remove members of a private room."""
    return is_active_member(membership) and membership.role == Membership.Role.OWNER


def can_moderate(*, membership: Membership | None) -> bool:
    return is_active_member(membership) and membership.role in MANAGING_ROLES


ROLE_RANK = {Membership.Role.MEMBER: 0, Membership.Role.MODERATOR: 1, Membership.Role.OWNER: 2}


def can_moderate_member(*, actor: Membership | None, target: Membership | None, actor_is_staff: bool = False) -> bool:
    """Mute or ban `target`. Staff may moderate anyone; otherwise only someone of a lower role
    (a moderator cannot ban the owner or another moderator)."""
    if actor_is_staff:
        return True
    if not can_moderate(membership=actor):
        return False
    target_role = target.role if target is not None else Membership.Role.MEMBER
    return ROLE_RANK[Membership.Role(actor.role)] > ROLE_RANK[Membership.Role(target_role)]


def can_moderate_room(*, actor: Membership | None, actor_is_staff: bool = False) -> bool:
    """Delete messages and lock or unlock the room."""
    return actor_is_staff or can_moderate(membership=actor)


def can_archive(*, actor: Membership | None, actor_is_staff: bool = False) -> bool:
    return actor_is_staff or can_manage_members(membership=actor)


def can_set_role(*, actor: Membership | None, target: Membership, role: str, actor_is_staff: bool = False) -> bool:
    """Make `target` a member, moderator or owner. Staff may set any role; an owner may make
    other members moderators or members again, but not other owners, and cannot demote one."""
    if actor_is_staff:
        return True
    if not can_manage_members(membership=actor) or target.user_id == actor.user_id:
        return False
    return target.role != Membership.Role.OWNER and role != Membership.Role.OWNER
