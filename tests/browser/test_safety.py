"""Message text is only ever text: markup in a body renders as written and runs nothing."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.browser.pages import RoomPage

pytestmark = pytest.mark.browser

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    '<a href="javascript:alert(3)">click me</a> javascript:alert(4)',
    'https://example.org/"><img src=x onerror=alert(5)>',
]


async def test_markup_in_messages_renders_as_text_live_and_after_reload(browser, server_a, room, alice, bob):
    alice_page = await RoomPage.open(browser, alice, server_a.http_url, room.slug)
    bob_page = await RoomPage.open(browser, bob, server_a.http_url, room.slug)

    for body in HOSTILE:
        await alice_page.send(body)
    for page in (alice_page, bob_page):  # the sender's own copy, then a live receiver
        await page.wait_for_bodies(HOSTILE)
    await bob_page.page.reload()  # and the server-rendered history
    await bob_page.wait_live()
    await bob_page.wait_for_bodies(HOSTILE)

    await asyncio.sleep(0.5)  # give an injected onerror the time to fire
    for page in (alice_page, bob_page):
        messages = page.page.locator("#messages")
        await expect(messages.locator("img, script, iframe")).to_have_count(0)
        # Only a real http(s) URL became a link, and it stopped at the quote.
        links = messages.get_by_role("link")
        await expect(links).to_have_count(1)
        await expect(links).to_have_attribute("href", "https://example.org/")
        assert await page.page.evaluate("typeof window.alert") == "function"
        page.assert_clean()  # no dialog opened, no script error
