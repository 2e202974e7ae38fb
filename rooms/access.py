"""Fetch-and-authorize for HTTP: the room a caller asks for, if they may see it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404

from rooms import policies
from rooms.models import Membership, Room
from rooms.selectors import membership_get


def access_room(*, user: AbstractBaseUser, slug: str) -> tuple[Room, Membership | None]:
    """The room and the user's membership. A missing room and one the user may not see get the
    same 404 (not 403), so a private room's existence does not leak."""
    room = Room.objects.filter(slug=slug).first()
    membership = membership_get(room=room, user=user) if room else None
    if room is None or not policies.can_view(membership=membership, room=room):
        raise Http404
    return room, membership
