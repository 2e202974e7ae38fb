"""The history and posting API, in-process against MariaDB and the chat log on the wire server."""

import pytest
from rest_framework.test import APIClient

from messages.chatlog import run_sync
from rooms.models import Membership
from tests.factories import RoomFactory, UserFactory, token_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def user():
    return UserFactory(username="reader")


@pytest.fixture
def api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client


@pytest.fixture
def room_with_messages(user):
    room = RoomFactory()
    for n in range(1, 8):
        run_sync(
            lambda log, n=n: log.append(
                room_id=room.pk,
                author_id=user.pk,
                author_username=user.username,
                client_id=f"seed-{n}",
                body=f"message {n}",
            )
        )
    return room


def seqs(response):
    return [m["seq"] for m in response.json()["results"]]


def test_newest_page_then_follow_previous_links_to_the_first_message(api, room_with_messages):
    response = api.get(f"/api/rooms/{room_with_messages.slug}/messages/?limit=3")
    assert seqs(response) == [5, 6, 7] and response.json()["next"] is None
    pages = [seqs(response)]
    while response.json()["previous"]:
        response = api.get(response.json()["previous"])
        pages.append(seqs(response))
    assert pages == [[5, 6, 7], [2, 3, 4], [1]]


def test_after_pages_forward_with_next_links(api, room_with_messages):
    response = api.get(f"/api/rooms/{room_with_messages.slug}/messages/?after=2&limit=2")
    assert seqs(response) == [3, 4]
    assert seqs(api.get(response.json()["next"])) == [5, 6]
    last = api.get(f"/api/rooms/{room_with_messages.slug}/messages/?after=7")
    assert seqs(last) == [] and last.json()["next"] is None


def test_a_message_has_the_protocol_shape(api, room_with_messages, user):
    message = api.get(f"/api/rooms/{room_with_messages.slug}/messages/?after=0&limit=1").json()["results"][0]
    assert message["author"] == {"id": user.pk, "username": "reader"}
    assert message["room"] == room_with_messages.slug and message["body"] == "message 1"
    assert message["client_id"] == "seed-1" and message["created_at"].endswith("Z") and message["deleted_at"] is None


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=x", "before=0", "after=-1", "before=3&after=1", "before=99999999999999999999"],
)
def test_bad_parameters_are_a_400_naming_the_field(api, room_with_messages, query):
    response = api.get(f"/api/rooms/{room_with_messages.slug}/messages/?{query}")
    assert response.status_code == 400
    assert set(response.json()) & {"limit", "before", "after"}


def test_post_is_stored_once_per_client_id(api, user):
    room = RoomFactory()
    url = f"/api/rooms/{room.slug}/messages/"
    first = api.post(url, {"client_id": "bot-1", "body": " hi from a bot "}, format="json")
    assert first.status_code == 201 and first.json()["body"] == "hi from a bot" and first.json()["seq"] == 1
    again = api.post(url, {"client_id": "bot-1", "body": "different"}, format="json")
    assert again.status_code == 200 and again.json() == first.json()
    assert seqs(api.get(url)) == [1]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client_id": "x", "body": "   "}, "body"),
        ({"client_id": "x", "body": "y" * 4001}, "body"),
        ({"client_id": "", "body": "hi"}, "client_id"),
        ({"client_id": "x" * 65, "body": "hi"}, "client_id"),
        ({"body": "hi"}, "client_id"),
    ],
)
def test_post_rejects_bad_fields_and_stores_nothing(api, body, field):
    room = RoomFactory()
    response = api.post(f"/api/rooms/{room.slug}/messages/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert seqs(api.get(f"/api/rooms/{room.slug}/messages/")) == []


def test_post_over_the_rate_limit_is_429_with_retry_after(api):
    room = RoomFactory()
    url = f"/api/rooms/{room.slug}/messages/"
    for n in range(10):
        assert api.post(url, {"client_id": f"b{n}", "body": "spam"}, format="json").status_code == 201
    response = api.post(url, {"client_id": "b10", "body": "spam"}, format="json")
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 10
    assert len(seqs(api.get(url))) == 10


def test_a_muted_member_cannot_post(api, user):
    from django.utils import timezone

    room = RoomFactory()
    Membership.objects.create(room=room, user=user, muted_until=timezone.now() + timezone.timedelta(hours=1))
    response = api.post(f"/api/rooms/{room.slug}/messages/", {"client_id": "m", "body": "hi"}, format="json")
    assert response.status_code == 403 and "muted" in response.json()["detail"]


def test_rooms_list_shows_public_and_my_private_rooms_only(api, user):
    public, mine, hidden = (
        RoomFactory(name="Public"),
        RoomFactory(name="Mine", is_private=True),
        RoomFactory(name="Hidden", is_private=True),
    )
    Membership.objects.create(room=mine, user=user)
    names = {room["name"] for room in api.get("/api/rooms/").json()["results"]}
    assert {"Public", "Mine"} <= names and "Hidden" not in names
    assert api.get(f"/api/rooms/{mine.slug}/").json()["membership"]["role"] == "member"
    assert api.get(f"/api/rooms/{public.slug}/").json()["membership"] is None
    assert api.get(f"/api/rooms/{hidden.slug}/").status_code == 404


def test_session_authenticated_posts_need_csrf(user):
    room = RoomFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(f"/api/rooms/{room.slug}/messages/", {"client_id": "c", "body": "hi"}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_a_missing_room_and_a_private_one_answer_exactly_alike(api):
    private = RoomFactory(is_private=True)
    missing = api.get("/api/rooms/no-such-room/messages/")
    hidden = api.get(f"/api/rooms/{private.slug}/messages/")
    assert (
        (missing.status_code, missing.json()) == (hidden.status_code, hidden.json()) == (404, {"detail": "Not found."})
    )


def test_a_number_is_not_a_message_body(api):
    room = RoomFactory()
    response = api.post(f"/api/rooms/{room.slug}/messages/", {"client_id": "n", "body": 5}, format="json")
    assert response.status_code == 400 and "body" in response.json()
