"""Selectors the send path reads rooms and memberships through (against the test database)."""

import pytest

from rooms.models import Membership
from rooms.selectors import room_and_membership, room_and_memberships
from tests.factories import RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_one_read_gives_each_users_membership_as_the_single_read_does():
    room = RoomFactory()
    member, moderator, outsider = UserFactory(), UserFactory(), UserFactory()
    Membership.objects.create(room=room, user=member)
    Membership.objects.create(room=room, user=moderator, role=Membership.Role.MODERATOR)
    other_room = RoomFactory()
    Membership.objects.create(room=other_room, user=outsider)

    users = [member.pk, moderator.pk, outsider.pk]
    read_room, memberships = room_and_memberships(room_id=room.pk, user_ids=users)

    assert read_room == room
    assert set(memberships) == {member.pk, moderator.pk}  # the outsider has none here
    for user_id in users:
        assert memberships.get(user_id) == room_and_membership(user_id=user_id, pk=room.pk)[1]


def test_a_room_that_is_gone_reads_as_none_with_no_memberships():
    room = RoomFactory()
    user = UserFactory()
    Membership.objects.create(room=room, user=user)
    room_id = room.pk
    room.delete()
    assert room_and_memberships(room_id=room_id, user_ids=[user.pk]) == (None, {})
