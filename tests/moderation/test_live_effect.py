"""Moderation through the API takes effect at once on every process."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from rooms.models import Membership, ModerationAction
from tests.factories import RoomFactory, UserFactory, token_for
from tests.realtime.conftest import room_url
from tests.support.http import api
from tests.support.ws import ChatClient


@pytest.fixture
def cast(transactional_db):
    """A room with its owner, a moderator and two members, each with a token."""
    owner, moderator, member, other = (UserFactory(username=name) for name in ("owner", "mod", "member", "other"))
    room = RoomFactory(created_by=owner)
    Membership.objects.create(room=room, user=moderator, role=Membership.Role.MODERATOR)
    Membership.objects.create(room=room, user=member)
    Membership.objects.create(room=room, user=other)
    for user in (owner, moderator, member, other):
        user.token = token_for(user)
    return SimpleNamespace(room=room, owner=owner, moderator=moderator, member=member, other=other)


async def call(*args, **kwargs):
    return await sync_to_async(api)(*args, **kwargs)


async def test_a_ban_closes_the_users_sockets_on_every_process_within_a_second(server_a, server_b, cast):
    room, _owner, moderator, member, _other = cast.room, cast.owner, cast.moderator, cast.member, cast.other
    on_a = await ChatClient.open(room_url(server_a, room), token=member.token)
    on_b = await ChatClient.open(room_url(server_b, room), token=member.token)
    started = time.monotonic()
    status, body = await call(
        server_a, "POST", f"/api/rooms/{room.slug}/members/member/ban/", moderator.token, {"reason": "spam"}
    )
    assert status == 200 and body["banned_at"] and body["ban_reason"] == "spam"
    codes = await asyncio.gather(on_a.close_code(), on_b.close_code())
    assert codes == [4403, 4403]
    assert time.monotonic() - started < 1.0 + 0.5  # the API round trip itself included
    refused = await ChatClient.open(room_url(server_b, room), token=member.token, expect_hello=False)
    assert await refused.close_code() == 4403
    assert (await call(server_a, "GET", f"/api/rooms/{room.slug}/messages/", member.token))[0] in {403, 404}
    entry = await ModerationAction.objects.select_related("actor", "target_user").aget(kind="ban")
    assert (entry.actor.username, entry.target_user.username, entry.reason) == ("mod", "member", "spam")


async def test_a_deleted_message_disappears_from_every_page_and_from_history(server_a, server_b, cast):
    room, owner, _moderator, member, other = cast.room, cast.owner, cast.moderator, cast.member, cast.other
    author = await ChatClient.open(room_url(server_a, room), token=member.token)
    watcher = await ChatClient.open(room_url(server_b, room), token=other.token)
    message = await author.post("oops", "something regrettable")
    await watcher.messages(1)
    status, _ = await call(server_b, "DELETE", f"/api/rooms/{room.slug}/messages/{message['seq']}/", owner.token)
    assert status == 204
    for client in (author, watcher):
        assert await client.expect("message.deleted") == {
            "type": "message.deleted",
            "id": message["id"],
            "seq": message["seq"],
        }
    _, page = await call(server_a, "GET", f"/api/rooms/{room.slug}/messages/", other.token)
    [tombstone] = page["results"]
    assert tombstone["seq"] == message["seq"] and tombstone["body"] is None and tombstone["deleted_at"]
    await author.close()
    await watcher.close()


async def test_a_mute_refuses_the_next_send_and_a_lock_makes_the_room_read_only(server_a, server_b, cast):
    room, owner, moderator, member, other = cast.room, cast.owner, cast.moderator, cast.member, cast.other
    talker = await ChatClient.open(room_url(server_b, room), token=member.token)
    await talker.post("before", "still allowed")  # server B now has this member's access at hand
    status, body = await call(
        server_a, "POST", f"/api/rooms/{room.slug}/members/member/mute/", moderator.token, {"minutes": 10}
    )
    assert status == 200 and body["muted_until"]
    await talker.send_message("muted", "hello?")
    assert (await talker.expect("error"))["code"] == "forbidden"
    assert (await call(server_a, "DELETE", f"/api/rooms/{room.slug}/members/member/mute/", moderator.token))[0] == 200
    await talker.post("unmuted", "hello again")

    assert (await call(server_a, "POST", f"/api/rooms/{room.slug}/lock/", owner.token, {}))[0] == 204
    updated = (await talker.expect("room.updated"))["room"]
    assert updated["is_locked"] is True and updated["read_only"] is True and updated["is_archived"] is False
    await talker.send_message("locked", "anyone?")
    assert (await talker.expect("error"))["code"] == "forbidden"
    status, _ = await call(
        server_a, "POST", f"/api/rooms/{room.slug}/messages/", other.token, {"client_id": "api", "body": "via the API"}
    )
    assert status == 403
    await talker.close()


async def test_a_change_made_outside_moderation_applies_to_the_next_send_on_every_process(server_a, server_b, cast):
    # The admin, a shell or a data migration save models directly; no live event is sent.
    room, member = cast.room, cast.member
    on_a = await ChatClient.open(room_url(server_a, room), token=member.token)
    on_b = await ChatClient.open(room_url(server_b, room), token=member.token)
    await on_a.post("a1", "one")
    await on_b.messages(1)
    await on_b.post("b1", "two")
    await on_a.messages(1)
    membership = await Membership.objects.aget(room=room, user=member)
    membership.muted_until = timezone.now() + timedelta(minutes=5)
    await membership.asave()
    for client, client_id in ((on_a, "a2"), (on_b, "b2")):
        await client.send_message(client_id, "muted now?")
        assert (await client.expect("error"))["code"] == "forbidden"
    membership.muted_until = None
    await membership.asave()
    await on_a.post("a3", "free again")
    await on_a.close()
    await on_b.close()


@pytest.mark.parametrize(
    ("actor", "target", "expected"),
    [
        ("member", "other", 403),  # members cannot moderate
        ("mod", "owner", 403),  # a moderator cannot touch the owner
        ("mod", "member", 200),
        ("owner", "mod", 200),
    ],
)
def test_who_may_ban_whom(server_a, cast, actor, target, expected):
    room = cast.room
    tokens = {user.username: user.token for user in (cast.owner, cast.moderator, cast.member, cast.other)}
    status, _ = api(server_a, "POST", f"/api/rooms/{room.slug}/members/{target}/ban/", tokens[actor], {})
    assert status == expected
    assert Membership.objects.get(room=room, user__username=target).is_banned is (expected == 200)


def test_a_private_room_is_404_for_outsiders_even_for_moderation(server_a, transactional_db):
    room = RoomFactory(is_private=True)
    outsider = UserFactory()
    token = token_for(outsider)
    for method, path in [
        ("GET", "/"),
        ("GET", "/messages/"),
        ("POST", "/lock/"),
        ("DELETE", "/messages/1/"),
        ("POST", f"/members/{room.created_by.username}/ban/"),
    ]:
        assert api(server_a, method, f"/api/rooms/{room.slug}{path}", token, {} if method == "POST" else None)[0] == 404


async def test_removing_a_member_of_a_private_room_closes_their_socket(server_a, server_b, transactional_db):
    from rooms.services import membership_remove

    owner = await sync_to_async(UserFactory)()
    member = await sync_to_async(UserFactory)()
    room = await sync_to_async(RoomFactory)(is_private=True, created_by=owner)
    await Membership.objects.acreate(room=room, user=member)
    token = await sync_to_async(token_for)(member)
    socket = await ChatClient.open(room_url(server_b, room), token=token)
    await sync_to_async(membership_remove)(room=room, actor=owner, username=member.username)
    assert await socket.close_code() == 4403


async def test_making_a_room_private_in_the_admin_closes_outsiders_sockets(server_a, transactional_db):
    from django.test import Client

    staff = await sync_to_async(UserFactory)(is_staff=True, is_superuser=True)
    outsider = await sync_to_async(UserFactory)()
    room = await sync_to_async(RoomFactory)(name="Was public")
    socket = await ChatClient.open(room_url(server_a, room), token=await sync_to_async(token_for)(outsider))

    def make_private():
        client = Client()
        client.force_login(staff)
        response = client.post(
            f"/admin/rooms/room/{room.pk}/change/",
            {
                "slug": room.slug,
                "name": "Now private",
                "topic": "",
                "is_private": "on",
                "created_by": room.created_by_id,
            },
        )
        errors = response.context["adminform"].form.errors if response.status_code == 200 else None
        assert response.status_code == 302, errors

    await sync_to_async(make_private)()
    assert (await socket.expect("room.updated"))["room"]["name"] == "Now private"
    assert await socket.close_code() == 4403


def test_moderating_cannot_make_anyone_a_member_of_a_private_room(server_a, transactional_db):
    owner, moderator, stranger = UserFactory(), UserFactory(), UserFactory()
    room = RoomFactory(is_private=True, created_by=owner)
    Membership.objects.create(room=room, user=moderator, role=Membership.Role.MODERATOR)
    status, body = api(
        server_a,
        "POST",
        f"/api/rooms/{room.slug}/members/{stranger.username}/mute/",
        token_for(moderator),
        {"minutes": 5},
    )
    assert status == 400 and "username" in body
    assert not Membership.objects.filter(room=room, user=stranger).exists()
