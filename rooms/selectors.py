from __future__ import annotations

from collections.abc import Collection

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet

from rooms.models import Membership, Room


def membership_get(*, room: Room, user: AbstractBaseUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(room=room, user=user).first()


def room_and_membership(*, user_id: int, **room_lookup: object) -> tuple[Room | None, Membership | None]:
    """The room matching `room_lookup` (slug=..., pk=...) and the user's membership of it.

    Read fresh each time it is asked: mutes, bans and locks must apply at once."""
    room = Room.objects.filter(**room_lookup).first()
    if room is None:
        return None, None
    return room, Membership.objects.filter(room=room, user_id=user_id).first()


def room_and_memberships(*, room_id: int, user_ids: Collection[int]) -> tuple[Room | None, dict[int, Membership]]:
    """The room and the memberships of `user_ids` in it, by user id (a user without one is
    absent): room_and_membership for many users of one room, in two queries."""
    room = Room.objects.filter(pk=room_id).first()
    if room is None or not user_ids:
        return room, {}
    return room, {
        membership.user_id: membership for membership in Membership.objects.filter(room=room, user_id__in=user_ids)
    }


def rooms_public(*, exclude_archived: bool = True) -> QuerySet[Room]:
    rooms = Room.objects.filter(is_private=False)
    if exclude_archived:
        rooms = rooms.filter(is_archived=False)
    return _with_member_count(rooms)


def rooms_of_user(*, user: AbstractBaseUser) -> QuerySet[Room]:
    # A subquery, not a join on memberships: the join would also filter what the member
    # count counts, and every room would show one member.
    mine = Membership.objects.filter(user=user, banned_at__isnull=True).values("room_id")
    return _with_member_count(Room.objects.filter(pk__in=mine))


def rooms_visible_to(*, user: AbstractBaseUser) -> QuerySet[Room]:
    """Public rooms not archived, plus every room the user is an active member of."""
    mine = Membership.objects.filter(user=user, banned_at__isnull=True).values("room_id")
    banned = Membership.objects.filter(user=user, banned_at__isnull=False).values("room_id")
    return _with_member_count(
        Room.objects.filter(Q(is_private=False, is_archived=False) | Q(pk__in=mine)).exclude(pk__in=banned)
    )


def room_members(*, room: Room) -> QuerySet[Membership]:
    return room.memberships.filter(banned_at__isnull=True).select_related("user").order_by("user__username")


def _with_member_count(rooms: QuerySet[Room]) -> QuerySet[Room]:
    return rooms.annotate(
        member_count=Count("memberships", filter=Q(memberships__banned_at__isnull=True), distinct=True)
    ).order_by("name", "pk")


def room_with_member_count(*, room_id: int) -> Room:
    return _with_member_count(Room.objects.filter(pk=room_id)).get()
