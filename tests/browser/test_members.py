"""The Members list of an open room page follows who joins and leaves, on either process."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from playwright.async_api import expect

from rooms import services
from tests.browser.network import FlakyLink
from tests.browser.pages import PHONE, RoomPage

pytestmark = pytest.mark.browser


@pytest.fixture
def carol(make_person):
    return make_person("carol")


async def test_the_members_list_follows_joins_role_changes_and_leaves(browser, server_a, server_b, room, alice, bob):
    # Alice watches the room on one process; Bob joins and leaves it on the other, by clicking.
    alice_page = await RoomPage.open(browser, alice, server_a.http_url, room.slug)
    members = alice_page.page.get_by_test_id("members")
    count = alice_page.page.get_by_test_id("member-count")
    owner = room.created_by.username
    await expect(members).to_have_text(f"{owner} owner")
    await expect(count).to_have_text("(1)")

    bob_page = await RoomPage.open(browser, bob, server_b.http_url, room.slug)
    await bob_page.page.get_by_role("button", name="Join room").click()
    await expect(members.locator("li")).to_have_text(sorted([f"{owner} owner", "bob"], key=str.lower))
    await expect(count).to_have_text("(2)")

    await bob_page.wait_live()
    await bob_page.page.get_by_role("button", name="Leave room").click()
    await expect(members.locator("li")).to_have_text([f"{owner} owner"])
    await expect(count).to_have_text("(1)")
    alice_page.assert_clean()
    await alice_page.close()
    await bob_page.close()


async def test_after_a_reconnect_the_list_shows_what_changed_meanwhile(browser, server_a, room, alice, carol):
    link = await FlakyLink(server_a.port).start()
    try:
        page = await RoomPage.open(browser, alice, link.http_url, room.slug, viewport=PHONE)
        members = page.page.get_by_test_id("members")
        link.cut()
        await expect(page.status).to_have_attribute("data-state", "offline")
        # Carol joins while the page is away: no frame reaches it.
        user = await sync_to_async(get_user_model().objects.get)(pk=carol.id)
        await sync_to_async(services.room_join)(room=room, user=user)
        link.restore()
        await expect(page.status).to_have_attribute("data-state", "live", timeout=30_000)
        await expect(members).to_contain_text("carol")
        await expect(page.page.get_by_test_id("member-count")).to_have_text("(2)")
        page.assert_clean()
        await page.close()
    finally:
        await link.stop()
