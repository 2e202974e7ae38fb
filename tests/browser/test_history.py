"""Scrolling up pages back through the room's history, from the API, to the first message."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from messages.chatlog import run_sync
from tests.browser.pages import RoomPage, eventually

pytestmark = pytest.mark.browser

HISTORY = 200


@pytest.fixture
def long_history(room, alice, bob):
    """200 messages stored straight in the chat log (no rate limit), alternating authors."""

    async def seed(log):
        for n in range(1, HISTORY + 1):
            author = alice if n % 2 else bob
            await log.append(
                room_id=room.pk,
                author_id=author.id,
                author_username=author.username,
                client_id=f"seed-{n}",
                body=f"message number {n}",
            )

    run_sync(seed, timeout=120)
    return room


async def test_scrolling_up_loads_older_pages_until_the_first_message(browser, server_a, long_history, alice):
    page = await RoomPage.open(browser, alice, server_a.http_url, long_history.slug)
    seqs = [entry["seq"] for entry in await page.entries()]
    assert seqs == list(range(151, 201)), "the newest 50 come with the page"
    scroller = page.page.locator("#message-scroller")
    assert await scroller.evaluate("s => s.scrollHeight - s.scrollTop - s.clientHeight") < 5, "opened at the newest"

    await scroller.hover()
    first_page_top = page.message("message number 151")

    async def scrolled_to_the_start():
        await page.page.mouse.wheel(0, -2500)
        return await page.page.locator('#messages > li[data-seq="1"]').count()

    await eventually(scrolled_to_the_start, timeout=60, describe=lambda: page.entries())
    entries = await page.entries()
    assert [entry["seq"] for entry in entries] == list(range(1, HISTORY + 1)), "every message once, in order"
    assert [entry["body"] for entry in entries] == [f"message number {n}" for n in range(1, HISTORY + 1)]
    assert [entry["author"] for entry in entries[:2]] == ["alice", "bob"]
    await expect(page.page.get_by_test_id("history-edge")).to_contain_text(f"This is the start of {long_history.name}.")
    await expect(first_page_top).to_have_count(1)
    page.assert_clean()


async def test_older_pages_keep_the_reader_in_place(browser, server_a, long_history, alice):
    page = await RoomPage.open(browser, alice, server_a.http_url, long_history.slug)
    anchor = page.message("message number 151")
    scroller = page.page.locator("#message-scroller")
    await scroller.evaluate("s => { s.scrollTop = 0; }")  # jump to the top: one older page loads
    await expect(page.page.locator('#messages > li[data-seq="101"]')).to_have_count(1)
    # The message that was at the top is still where the reader left it, not pushed away.
    top = await anchor.evaluate(
        "li => li.getBoundingClientRect().top - li.closest('.scroller').getBoundingClientRect().top"
    )
    assert 0 <= top < 200, top
    page.assert_clean()
