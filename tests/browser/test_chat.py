"""Two people chat in real Chromium; a third page on the other daphne process sees the same."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from tests.browser.pages import RoomPage

pytestmark = pytest.mark.browser


@pytest.fixture
def carol(make_person):
    return make_person("carol")


async def test_two_people_chat_both_ways_and_the_other_process_sees_the_same(
    browser, server_a, server_b, room, alice, bob, carol
):
    alice_page = await RoomPage.open(browser, alice, server_a.http_url, room.slug)
    bob_page = await RoomPage.open(browser, bob, server_a.http_url, room.slug)
    # Carol reads on the other process, five and a half hours ahead of UTC.
    carol_page = await RoomPage.open(browser, carol, server_b.http_url, room.slug, timezone_id="Asia/Kolkata")
    pages = [alice_page, bob_page, carol_page]

    for page in pages:
        await expect(page.page.get_by_test_id("online")).to_contain_text("alice")
        await expect(page.page.get_by_test_id("online")).to_contain_text("bob")
        await expect(page.page.get_by_test_id("online")).to_contain_text("carol")
        await expect(page.page.get_by_test_id("online-count")).to_have_text("3 online")

    await alice_page.send("Hi Bob 👋")
    await expect(bob_page.message("Hi Bob 👋")).to_be_visible()

    # Bob is seen typing before his answer arrives.
    await bob_page.box.press_sequentially("Hello Al")
    await expect(alice_page.page.get_by_test_id("typing")).to_have_text("bob is typing…")
    await bob_page.box.press_sequentially("ice, see https://example.org/docs.")
    await bob_page.box.press("Enter")
    await expect(alice_page.message("Hello Alice")).to_be_visible()
    await expect(alice_page.page.get_by_test_id("typing")).to_have_text("")

    # Shift+Enter keeps a line break; Enter sends.
    await alice_page.box.press_sequentially("line one")
    await alice_page.box.press("Shift+Enter")
    await alice_page.box.press_sequentially("line two")
    await alice_page.box.press("Enter")
    await expect(alice_page.box).to_have_value("")

    expected = ["Hi Bob 👋", "Hello Alice, see https://example.org/docs.", "line one\nline two"]
    seen = [await page.wait_for_bodies(expected) for page in pages]
    assert seen[0] == seen[1] == seen[2], "every page shows the same messages in the same order"
    assert [entry["seq"] for entry in seen[0]] == [1, 2, 3]
    assert [entry["author"] for entry in seen[0]] == ["alice", "bob", "alice"]

    # The link is a real link (and the sentence's full stop is not part of it).
    link = carol_page.message("Hello Alice").get_by_role("link")
    await expect(link).to_have_attribute("href", "https://example.org/docs")
    await expect(link).to_have_attribute("rel", "noopener noreferrer nofollow ugc")

    # Times are in the reader's own time zone.
    iso = await carol_page.message("Hi Bob").locator("time").get_attribute("datetime")
    created = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    expected_time = created.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%H:%M")
    await expect(carol_page.message("Hi Bob").locator("time")).to_have_text(expected_time)

    # A reload renders the same history on the server, in the same order.
    await carol_page.page.reload()
    await carol_page.wait_live()
    assert await carol_page.entries() == seen[2]
    await expect(carol_page.message("Hi Bob").locator("time")).to_have_text(expected_time)

    for page in pages:
        page.assert_clean()
