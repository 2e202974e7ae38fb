"""How the room looks and reads: screenshots at desktop and phone width (var/test-artifacts/),
nothing wider than a phone, and controls that keyboards and screen readers can use."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.async_api import expect

from messages.chatlog import run_sync
from rooms.models import Membership
from tests.browser.pages import ARTIFACTS, DESKTOP, PHONE, RoomPage
from tests.factories import RoomFactory

pytestmark = pytest.mark.browser

CONVERSATION = [
    ("carol", "Morning all ☀️ The release branch is cut."),
    ("bob", "Nice! I'll run the smoke tests right after standup."),
    ("bob", "Checklist, as always: https://example.org/release/checklist"),
    (
        "alice",
        "Thanks both. Two things from the review:\n• long names no longer squeeze the phone layout\n"
        "• links in messages are clickable now",
    ),
    ("carol", "Looks great on my phone 📱"),
    ("bob", "Smoke tests passed ✅ Shipping at three?"),
    ("alice", "Three it is. I'll post the notes here when it's out."),
]


@pytest.fixture
def team(make_person):
    return {name: make_person(name) for name in ("alice", "bob", "carol")}


@pytest.fixture
def team_room(team):
    carol = get_user_model().objects.get(pk=team["carol"].id)
    room = RoomFactory(
        name="Release crew",
        slug="release-crew",
        topic="Shipping the chat server, one release at a time",
        created_by=carol,
    )
    for person in team.values():
        Membership.objects.get_or_create(room=room, user_id=person.id)

    async def seed(log):
        for n, (name, body) in enumerate(CONVERSATION, start=1):
            person = team[name]
            await log.append(
                room_id=room.pk, author_id=person.id, author_username=person.username, client_id=f"look-{n}", body=body
            )

    run_sync(seed)
    return room


async def test_the_room_at_desktop_and_phone_width(browser, server_a, server_b, team, team_room):
    bob = await RoomPage.open(browser, team["bob"], server_b.http_url, team_room.slug)
    desktop = await RoomPage.open(browser, team["alice"], server_a.http_url, team_room.slug, viewport=DESKTOP)
    phone = await RoomPage.open(
        browser,
        team["alice"],
        server_a.http_url,
        team_room.slug,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    await bob.box.press_sequentially("On my way")  # shows as "bob is typing…"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    for page, name, width in ((desktop, "room-desktop", DESKTOP["width"]), (phone, "room-phone", PHONE["width"])):
        await page.wait_for_bodies([body for _, body in CONVERSATION])
        await expect(page.page.get_by_test_id("typing")).to_have_text("bob is typing…")
        await expect(page.page.get_by_test_id("online-count")).to_have_text("2 online")
        # Readable without sideways scrolling, with the message box on screen.
        assert await page.page.evaluate("document.documentElement.scrollWidth") <= width
        await expect(page.box).to_be_in_viewport()
        await expect(page.page.get_by_role("button", name="Send")).to_be_in_viewport()
        await page.page.screenshot(path=ARTIFACTS / f"{name}.png")
        page.assert_clean()
    bob.assert_clean()


async def test_the_room_list_shows_topics_and_member_counts(browser, server_a, team, team_room):
    page = await RoomPage.open(browser, team["alice"], server_a.http_url, team_room.slug)
    await page.page.goto(f"{server_a.http_url}/rooms/")
    mine = page.page.get_by_test_id("my-rooms").locator("li", has_text="Release crew")
    await expect(mine).to_contain_text("Shipping the chat server, one release at a time")
    public = page.page.get_by_test_id("public-rooms").locator("li", has_text="Release crew")
    await expect(public).to_contain_text("Shipping the chat server, one release at a time")
    await expect(public).to_contain_text("3 members")
    await expect(public).to_contain_text("joined")
    await page.page.screenshot(path=ARTIFACTS / "rooms-desktop.png")
    await public.get_by_role("link", name="Release crew").click()
    await page.wait_live()
    page.assert_clean()


async def test_my_rooms_count_every_member(browser, server_a, team, team_room):
    page = await RoomPage.open(browser, team["alice"], server_a.http_url, team_room.slug)
    await page.page.goto(f"{server_a.http_url}/rooms/")
    mine = page.page.get_by_test_id("my-rooms").locator("li", has_text="Release crew")
    await expect(mine).to_contain_text("3 members", timeout=2000)


async def test_the_room_works_from_the_keyboard_with_named_controls(browser, server_a, team, team_room):
    page = await RoomPage.open(browser, team["alice"], server_a.http_url, team_room.slug)
    p = page.page
    box = p.get_by_role("textbox", name="Message to Release crew")
    await expect(box).to_be_focused()  # ready to type on arrival (desktop pointer)
    await expect(p.get_by_role("region", name="Messages")).to_be_visible()
    await expect(p.get_by_role("status").first).to_contain_text("Connected")

    await box.press("Tab")
    await expect(p.get_by_role("button", name="Send")).to_be_focused()
    await p.keyboard.press("Shift+Tab")
    await p.keyboard.press("Shift+Tab")  # back past the box: the message history, or a link in it
    assert await p.evaluate("document.activeElement.closest('#message-scroller') !== null")

    # New messages are announced politely to screen readers.
    bob = await RoomPage.open(browser, team["bob"], server_a.http_url, team_room.slug)
    await bob.send("Notes are up")
    await expect(p.get_by_test_id("announcer")).to_contain_text("bob: Notes are up")
    page.assert_clean()
    bob.assert_clean()
