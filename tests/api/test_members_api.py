"""`GET /api/rooms/<slug>/members/`: what an open page reads again after a reconnect."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from rooms.models import Membership
from tests.factories import RoomFactory, UserFactory, token_for

pytestmark = pytest.mark.django_db(transaction=True)


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client


def test_the_members_with_their_roles_by_username_and_never_the_banned():
    room = RoomFactory(created_by=UserFactory(username="zoe"))
    Membership.objects.create(room=room, user=UserFactory(username="Bob"), role=Membership.Role.MODERATOR)
    Membership.objects.create(room=room, user=UserFactory(username="carl"), banned_at=timezone.now())
    reader = UserFactory(username="reader")
    response = _api(reader).get(f"/api/rooms/{room.slug}/members/")
    assert response.status_code == 200
    body = response.json()
    assert [(m["username"], m["role"]) for m in body["results"]] == [("Bob", "moderator"), ("zoe", "owner")]
    assert body["count"] == 2 and all(isinstance(m["id"], int) for m in body["results"])


def test_a_private_room_s_members_are_for_its_members_only():
    room = RoomFactory(is_private=True)
    outsider, member = UserFactory(), UserFactory()
    Membership.objects.create(room=room, user=member)
    assert _api(outsider).get(f"/api/rooms/{room.slug}/members/").status_code == 404
    assert _api(member).get(f"/api/rooms/{room.slug}/members/").status_code == 200


def test_the_list_is_paged():
    room = RoomFactory()
    for n in range(3):
        Membership.objects.create(room=room, user=UserFactory(username=f"m{n}"))
    response = _api(UserFactory()).get(f"/api/rooms/{room.slug}/members/?limit=2")
    assert len(response.json()["results"]) == 2 and response.json()["next"]
    assert _api(UserFactory()).get(f"/api/rooms/{room.slug}/members/?limit=501").status_code == 200
