"""A page that loses its connection says so, comes back by itself and shows every message
exactly once, in order; what was typed meanwhile is delivered once."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from messages.chatlog import run_sync
from tests.browser.network import FlakyLink
from tests.browser.pages import RoomPage
from tests.support.servers import start_daphne

pytestmark = pytest.mark.browser

AWAY = [f"while you were away {n}" for n in range(1, 6)]


async def test_after_a_network_drop_the_page_catches_up_exactly_once(browser, server_a, server_b, room, alice, bob):
    link = await FlakyLink(server_a.port).start()
    try:
        alice_page = await RoomPage.open(browser, alice, link.http_url, room.slug)
        bob_page = await RoomPage.open(browser, bob, server_b.http_url, room.slug)
        await expect(bob_page.page.get_by_test_id("online-count")).to_have_text("2 online")
        await alice_page.send("before the drop")
        await bob_page.wait_for_bodies(["before the drop"])

        link.cut()
        await expect(alice_page.status).to_have_attribute("data-state", "offline")
        await expect(alice_page.status).to_contain_text("Connection lost. Reconnecting in")
        await expect(bob_page.page.get_by_test_id("online-count")).to_have_text("1 online")

        for body in AWAY:
            await bob_page.send(body)
        await bob_page.wait_for_bodies(["before the drop", *AWAY])

        await alice_page.send("typed while offline")
        unsent = alice_page.message("typed while offline")
        await expect(unsent).to_have_attribute("data-state", "pending")
        await expect(unsent).to_contain_text("Sending…")
        assert await alice_page.bodies() == ["before the drop", "typed while offline"]

        link.restore()  # no help from the test: the page's own backoff finds the way back
        expected = ["before the drop", *AWAY, "typed while offline"]
        entries = await alice_page.wait_for_bodies(expected, timeout=30)
        assert [entry["seq"] for entry in entries] == list(range(1, 8))
        await expect(alice_page.status).to_have_attribute("data-state", "live")
        await bob_page.wait_for_bodies(expected)
        await expect(bob_page.page.get_by_test_id("online-count")).to_have_text("2 online")

        await asyncio.sleep(1.5)  # nothing arrives twice, late
        assert await alice_page.bodies() == expected
        assert await bob_page.bodies() == expected
        response = await alice_page.page.request.get(f"{link.http_url}/api/rooms/{room.slug}/messages/")
        assert [m["body"] for m in (await response.json())["results"]] == expected, "stored once each"
        alice_page.assert_clean()
        bob_page.assert_clean()
    finally:
        await link.stop()


async def test_when_the_browser_goes_offline_the_page_waits_for_the_network(
    browser, server_a, server_b, room, alice, bob
):
    alice_page = await RoomPage.open(browser, alice, server_a.http_url, room.slug)
    bob_page = await RoomPage.open(browser, bob, server_b.http_url, room.slug)

    await alice_page.context.set_offline(True)
    await expect(alice_page.status).to_have_attribute("data-state", "offline")
    await expect(alice_page.status).to_contain_text("You are offline")
    await alice_page.send("sent from the train")
    await expect(alice_page.message("sent from the train")).to_have_attribute("data-state", "pending")
    await bob_page.send("are you there?")
    await bob_page.send("hello?")
    # Both stored while Alice is away: only then is the order below the order of the log.
    await expect(bob_page.message("hello?")).to_have_attribute("data-state", "sent")

    await alice_page.context.set_offline(False)
    expected = ["are you there?", "hello?", "sent from the train"]
    await alice_page.wait_for_bodies(expected)
    await bob_page.wait_for_bodies(expected)
    alice_page.assert_clean()
    bob_page.assert_clean()


@pytest.fixture
def short_replay_server(static_root, django_db_blocker, transactional_db):
    """A daphne that replays at most 5 missed messages on resume (CHAT_RESUME_MAX_MESSAGES)."""
    with django_db_blocker.unblock():
        server = start_daphne("browser-replay5", CHAT_RESUME_MAX_MESSAGES="5", DJANGO_STATIC_ROOT=str(static_root))
    yield server
    server.stop()


async def test_after_missing_more_than_one_replay_the_page_fetches_the_rest(
    browser, short_replay_server, room, alice, bob
):
    link = await FlakyLink(short_replay_server.port).start()
    try:
        page = await RoomPage.open(browser, alice, link.http_url, room.slug)
        await page.send("first")
        await page.send("second")
        await page.wait_for_bodies(["first", "second"])

        link.cut()
        await expect(page.status).to_have_attribute("data-state", "offline")
        missed = [f"missed {n}" for n in range(1, 13)]

        async def append_missed(log):
            for n, body in enumerate(missed):
                await log.append(
                    room_id=room.pk, author_id=bob.id, author_username=bob.username, client_id=f"m{n}", body=body
                )

        await asyncio.to_thread(run_sync, append_missed)
        link.restore()

        # The server replays only the newest 5 (resume.truncated); the page pages back the other 7.
        entries = await page.wait_for_bodies(["first", "second", *missed], timeout=30)
        assert [entry["seq"] for entry in entries] == list(range(1, 15))
        await expect(page.page.get_by_test_id("announcer")).to_contain_text("You missed 12 messages.")
        page.assert_clean()
    finally:
        await link.stop()
