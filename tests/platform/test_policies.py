from datetime import UTC, datetime, timedelta

import pytest

from rooms import policies
from rooms.models import Membership, Room

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def room(**flags) -> Room:
    return Room(slug="r", name="r", **flags)


def member(role=Membership.Role.MEMBER, **fields) -> Membership:
    return Membership(role=role, **fields)


@pytest.mark.parametrize(
    ("the_room", "membership", "expected"),
    [
        (room(), None, True),
        (room(), member(banned_at=NOW), False),
        (room(is_private=True), None, False),
        (room(is_private=True), member(), True),
        (room(is_private=True), member(banned_at=NOW), False),
    ],
)
def test_can_view(the_room, membership, expected):
    assert policies.can_view(membership=membership, room=the_room) is expected


@pytest.mark.parametrize(
    ("the_room", "membership", "expected"),
    [
        (room(), None, True),
        (room(), member(), True),
        (room(is_locked=True), member(role=Membership.Role.OWNER), False),
        (room(is_archived=True), member(), False),
        (room(), member(muted_until=NOW + timedelta(minutes=5)), False),
        (room(), member(muted_until=NOW - timedelta(minutes=5)), True),
        (room(), member(banned_at=NOW), False),
        (room(is_private=True), None, False),
    ],
)
def test_can_post(the_room, membership, expected):
    assert policies.can_post(membership=membership, room=the_room, now=NOW) is expected


@pytest.mark.parametrize(
    ("membership", "manage", "moderate"),
    [
        (None, False, False),
        (member(), False, False),
        (member(role=Membership.Role.MODERATOR), False, True),
        (member(role=Membership.Role.OWNER), True, True),
        (member(role=Membership.Role.OWNER, banned_at=NOW), False, False),
    ],
)
def test_roles(membership, manage, moderate):
    assert policies.can_manage_members(membership=membership) is manage
    assert policies.can_moderate(membership=membership) is moderate
