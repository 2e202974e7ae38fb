"""What the server refuses is said in plain words, next to the message it concerns."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from playwright.async_api import BrowserContext, expect

from messages.services import message_delete
from rooms.moderation import membership_ban, membership_mute, room_set_locked
from tests.browser.pages import RoomPage

pytestmark = pytest.mark.browser

LIMIT = settings.CHAT_MAX_BODY_CHARS
STALE_LIMIT_SCRIPT = """
new MutationObserver((changes, observer) => {
  const config = document.getElementById("chat-config");
  if (config && config.textContent.includes('"maxBodyChars": OLD')) {
    config.textContent = config.textContent.replace('"maxBodyChars": OLD', '"maxBodyChars": NEW');
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""


async def test_the_box_shows_the_length_limit_and_refuses_a_message_over_it(browser, server_a, room, alice):
    page = await RoomPage.open(browser, alice, server_a.http_url, room.slug)
    count = page.page.get_by_test_id("composer-count")
    await page.box.fill("x" * 100)
    await expect(count).to_have_text("")
    await page.box.fill("x" * int(LIMIT * 0.9))
    await expect(count).to_have_text(f"{int(LIMIT * 0.9):,} / {LIMIT:,} characters")

    await page.box.fill("x" * (LIMIT + 25))
    await expect(count).to_have_text(f"{LIMIT + 25:,} / {LIMIT:,} characters: 25 too many")
    await expect(page.box).to_have_attribute("aria-invalid", "true")
    await page.box.press("Enter")
    await expect(page.composer_error).to_have_text(
        f"This message is too long: {LIMIT + 25:,} characters, and messages can have at most {LIMIT:,}. "
        "Shorten it by 25."
    )
    assert await page.entries() == [], "nothing was sent"
    await expect(page.box).to_have_value("x" * (LIMIT + 25))  # nothing typed is thrown away

    # Emoji count as one character each, as the server counts them.
    await page.box.fill("🙂" * LIMIT)
    await expect(count).to_have_text(f"{LIMIT:,} / {LIMIT:,} characters")
    await page.box.press("Enter")
    await page.wait_for_bodies(["🙂" * LIMIT])
    page.assert_clean()


async def test_a_message_the_server_finds_too_long_is_marked_not_sent(browser, server_a, room, alice):
    async def stale_page(context: BrowserContext) -> None:
        # A page loaded before the limit was lowered still believes in a bigger one. (Edited
        # as the parser inserts it: a page fulfilled by a route may not open local sockets.)
        await context.add_init_script(STALE_LIMIT_SCRIPT.replace("OLD", str(LIMIT)).replace("NEW", str(LIMIT * 2)))

    page = await RoomPage.open(browser, alice, server_a.http_url, room.slug, setup=stale_page)
    body = "y" * (LIMIT + 10)
    await page.send(body)
    refused = page.message(body)
    await expect(refused).to_have_attribute("data-state", "failed")
    words = f"This message is too long. Messages can have at most {LIMIT:,} characters."
    await expect(refused.locator(".state")).to_contain_text(f"Not sent: {words}")
    await expect(page.composer_error).to_have_text(words)
    await expect(refused.get_by_role("button", name="Retry")).to_have_count(0)  # the same text would fail again

    await refused.get_by_role("button", name="Edit").click()
    await expect(page.box).to_have_value(body)
    await expect(page.box).to_be_focused()
    assert await page.entries() == []
    page.assert_clean()


async def test_sending_too_fast_says_so_and_sends_the_rest_in_order_when_allowed(browser, server_a, room, alice):
    page = await RoomPage.open(browser, alice, server_a.http_url, room.slug)
    burst = [f"quick {n}" for n in range(1, settings.CHAT_RATE_MESSAGES + 6)]  # five over the limit
    for body in burst:
        await page.send(body)

    await expect(page.composer_error).to_have_text(
        re.compile(r"^You are sending messages too fast\. The rest will be sent in \d+ seconds?\.$")
    )
    held = page.page.locator("#messages > li[data-state=pending]", has_text="Waiting: you are sending too fast.")
    await expect(held).not_to_have_count(0)

    # Nothing to click: one more is allowed each second, and they go in the order written.
    entries = await page.wait_for_bodies(burst, timeout=20)
    assert [entry["seq"] for entry in entries] == list(range(1, len(burst) + 1))
    await expect(page.composer_error).to_have_text("")
    page.assert_clean()


async def test_moderation_is_explained_as_it_happens(browser, server_a, room, alice, bob):
    owner = room.created_by
    page = await RoomPage.open(browser, alice, server_a.http_url, room.slug)
    bob_page = await RoomPage.open(browser, bob, server_a.http_url, room.slug)
    await bob_page.send("something rude")
    await page.wait_for_bodies(["something rude"])

    # A moderator deletes a message: it stays in its place, without its text.
    await sync_to_async(message_delete)(room=room, actor=owner, seq=1)
    await expect(page.message("This message was deleted.")).to_have_attribute("data-seq", "1")
    await expect(page.page.locator("#messages").get_by_text("something rude")).to_have_count(0)

    # Locking the room closes the message box at once, with the reason.
    await sync_to_async(room_set_locked)(room=room, actor=owner, locked=True)
    await expect(page.page.get_by_test_id("locked-notice")).to_be_visible()
    await expect(page.box).to_be_disabled()
    await expect(page.box).to_have_attribute("placeholder", "This room is read-only.")
    await sync_to_async(room_set_locked)(room=room, actor=owner, locked=False)
    await expect(page.box).to_be_enabled()
    await expect(page.page.get_by_test_id("locked-notice")).to_be_hidden()

    # A mute refuses the message and says until when, in the reader's time zone.
    until = timezone.now() + timedelta(hours=1)
    await sync_to_async(membership_mute)(room=room, actor=owner, username=alice.username, until=until)
    await page.send("let me speak")
    refused = page.message("let me speak")
    await expect(refused).to_have_attribute("data-state", "failed")
    local_until = until.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M")
    await expect(refused.locator(".state")).to_contain_text(
        re.compile(rf"Not sent: You are muted until .*{local_until}")
    )
    await expect(refused.locator(".state")).not_to_contain_text(until.isoformat()[:16])
    page.assert_clean()
    bob_page.assert_clean()


async def test_a_ban_closes_the_room_for_good_in_plain_words(browser, server_a, room, alice):
    page = await RoomPage.open(browser, alice, server_a.http_url, room.slug)
    await page.send("hello everyone")
    await page.wait_for_bodies(["hello everyone"])

    await sync_to_async(membership_ban)(room=room, actor=room.created_by, username=alice.username)
    await expect(page.status).to_have_attribute("data-state", "closed")
    await expect(page.status).to_contain_text("You are no longer allowed in this room.")
    await expect(page.box).to_be_disabled()
    await asyncio.sleep(3)  # and it does not keep knocking
    await expect(page.status).to_have_attribute("data-state", "closed")
    page.assert_clean()
