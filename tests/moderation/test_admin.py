"""Staff moderate through the Django admin, under the same rules and with the same audit log."""

import pytest
from django.urls import reverse

from messages.chatlog import run_sync
from rooms.models import Membership, ModerationAction, Room
from tests.factories import RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(client):
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def seed(room, author, bodies):
    for n, body in enumerate(bodies):
        run_sync(
            lambda log, n=n, body=body: log.append(
                room_id=room.pk, author_id=author.pk, author_username=author.username, client_id=f"s{n}", body=body
            )
        )


def test_lock_action_makes_the_room_read_only_and_is_audited(staff_client):
    room = RoomFactory()
    response = staff_client.post(
        reverse("admin:rooms_room_changelist"), {"action": "lock", "_selected_action": [room.pk]}
    )
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.is_locked
    assert ModerationAction.objects.get().kind == "lock"


def test_banning_through_the_membership_form_records_who_and_why(staff_client):
    member = UserFactory(username="troll")
    room = RoomFactory()
    membership = Membership.objects.create(room=room, user=member)
    url = reverse("admin:rooms_membership_change", args=[membership.pk])
    response = staff_client.post(
        url, {"role": "member", "muted_until_0": "", "muted_until_1": "", "banned": "on", "ban_reason": "spam links"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership.refresh_from_db()
    assert membership.is_banned and membership.banned_by.username == "staff" and membership.ban_reason == "spam links"
    entry = ModerationAction.objects.get()
    assert (entry.kind, entry.target_user, entry.reason) == ("ban", member, "spam links")


def test_the_audit_log_is_read_only(staff_client):
    room = RoomFactory()
    entry = ModerationAction.objects.create(room=room, kind="lock")
    assert staff_client.get(reverse("admin:rooms_moderationaction_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:rooms_moderationaction_add")).status_code == 403
    assert (
        staff_client.post(reverse("admin:rooms_moderationaction_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert ModerationAction.objects.filter(pk=entry.pk).exists()


def test_the_message_view_searches_the_chat_log_newest_first_and_deletes(staff_client):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    room = RoomFactory()
    seed(room, alice, ["hello there", "buy cheap pills", "<b>bold?</b>"])
    seed(room, bob, ["hello from bob"])
    url = reverse("admin:rooms_room_messages", args=[room.pk])

    page = staff_client.get(url).content.decode()
    assert page.index("hello from bob") < page.index("hello there"), "newest first"
    assert "&lt;b&gt;bold?&lt;/b&gt;" in page, "bodies are escaped"
    found = staff_client.get(url, {"author": "alice", "text": "HELLO"}).content.decode()
    assert "hello there" in found and "hello from bob" not in found and "pills" not in found

    staff_client.post(url, {"seq": 2, "reason": "spam"})
    tombstone = run_sync(lambda log: log.get(room_id=room.pk, seq=2))
    assert tombstone.is_deleted and tombstone.body is None
    entry = ModerationAction.objects.get(kind="delete_message")
    assert (entry.message_seq, entry.target_user, entry.reason) == (2, alice, "spam")


def test_non_staff_cannot_reach_the_message_view(client):
    client.force_login(UserFactory())
    room = Room.objects.create(slug="r", name="r")
    response = client.get(reverse("admin:rooms_room_messages", args=[room.pk]))
    assert response.status_code == 302 and "login" in response.url


def test_a_mute_in_the_past_is_a_form_error_not_a_crash(staff_client):
    membership = Membership.objects.create(room=RoomFactory(), user=UserFactory())
    response = staff_client.post(
        reverse("admin:rooms_membership_change", args=[membership.pk]),
        {"role": "member", "muted_until_0": "2020-01-01", "muted_until_1": "00:00:00", "ban_reason": ""},
    )
    assert response.status_code == 200 and "must end in the future" in response.content.decode()


def test_deleting_a_deleted_message_again_changes_nothing(staff_client):
    author = UserFactory()
    room = RoomFactory()
    seed(room, author, ["regrettable"])
    url = reverse("admin:rooms_room_messages", args=[room.pk])
    staff_client.post(url, {"seq": 1})
    staff_client.post(url, {"seq": 1})
    assert ModerationAction.objects.filter(kind="delete_message").count() == 1


def test_a_role_changed_in_the_admin_goes_through_the_rules_and_the_audit_log(staff_client):
    member = UserFactory(username="helper")
    room = RoomFactory()
    membership = Membership.objects.create(room=room, user=member)
    url = reverse("admin:rooms_membership_change", args=[membership.pk])
    response = staff_client.post(url, {"role": "moderator", "muted_until_0": "", "muted_until_1": "", "ban_reason": ""})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "moderator"
    action = ModerationAction.objects.get(kind=ModerationAction.Kind.SET_ROLE)
    assert (action.target_user, action.detail) == (member, "member → moderator")
