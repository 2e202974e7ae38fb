import pytest
from django.db import connection
from django.urls import reverse

from rooms.models import Membership, Room
from tests.factories import RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_orm_runs_on_mariadb_when_the_test_command_runs():
    # scripts/test points DATABASE_URL at MariaDB; a run on SQLite would not test the real schema.
    if connection.vendor != "mysql":
        pytest.skip("DATABASE_URL is not a MySQL/MariaDB database (run scripts/test)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        assert "MariaDB" in cursor.fetchone()[0]


def test_create_a_room_with_emoji_and_see_it_in_the_list(client):
    client.force_login(UserFactory())
    response = client.post(reverse("rooms:create"), {"name": "Launch 🚀 party", "topic": "🎉 cake"})
    room = Room.objects.get()
    assert response.url == reverse("rooms:detail", args=[room.slug])
    assert room.name == "Launch 🚀 party" and room.topic == "🎉 cake"
    assert "Launch 🚀 party" in client.get(reverse("rooms:list")).content.decode()


def test_names_that_differ_only_by_emoji_stay_distinct():
    # utf8mb4_general_ci would compare 🚀 and 🎉 as equal; the configured collation does not.
    RoomFactory(name="🚀")
    RoomFactory(name="🎉")
    assert list(Room.objects.filter(name="🚀").values_list("name", flat=True)) == ["🚀"]


def test_a_name_of_only_emoji_still_gets_an_address(client):
    client.force_login(UserFactory())
    client.post(reverse("rooms:create"), {"name": "🔥🔥"})
    assert Room.objects.get().slug


def test_a_private_room_is_invisible_to_non_members(client):
    room = RoomFactory(is_private=True, name="Secret plans")
    client.force_login(UserFactory())
    assert client.get(reverse("rooms:detail", args=[room.slug])).status_code == 404
    assert client.post(reverse("rooms:join", args=[room.slug])).status_code == 404
    assert "Secret plans" not in client.get(reverse("rooms:list")).content.decode()
    assert client.get(f"/api/rooms/{room.slug}/").status_code == 404
    assert client.get(f"/api/rooms/{room.slug}/messages/").status_code == 404
    assert not Membership.objects.filter(room=room).exclude(user=room.created_by).exists()


def test_the_owner_adds_a_member_to_a_private_room_by_username(client):
    owner, friend = UserFactory(), UserFactory()
    room = RoomFactory(is_private=True, created_by=owner)
    client.force_login(owner)
    client.post(reverse("rooms:member-add", args=[room.slug]), {"username": friend.username})
    client.force_login(friend)
    assert client.get(reverse("rooms:detail", args=[room.slug])).status_code == 200


def test_only_the_owner_adds_members(client):
    owner, member, outsider = UserFactory(), UserFactory(), UserFactory()
    room = RoomFactory(is_private=True, created_by=owner)
    Membership.objects.create(room=room, user=member)
    client.force_login(member)
    response = client.post(reverse("rooms:member-add", args=[room.slug]), {"username": outsider.username})
    assert response.status_code == 403
    assert not Membership.objects.filter(room=room, user=outsider).exists()


def test_join_and_leave_a_public_room(client):
    user = UserFactory()
    room = RoomFactory()
    client.force_login(user)
    client.post(reverse("rooms:join", args=[room.slug]))
    assert Membership.objects.filter(room=room, user=user).exists()
    client.post(reverse("rooms:leave", args=[room.slug]))
    assert not Membership.objects.filter(room=room, user=user).exists()


def test_leaving_does_not_lift_a_ban(client):
    user = UserFactory()
    room = RoomFactory()
    Membership.objects.create(room=room, user=user, banned_at="2026-01-01T00:00:00Z")
    client.force_login(user)
    client.post(reverse("rooms:leave", args=[room.slug]))
    assert client.get(reverse("rooms:detail", args=[room.slug])).status_code == 404
    assert Membership.objects.get(room=room, user=user).is_banned
