"""Real Chromium (Debian's, through Playwright) against real daphne processes.

Two daphne processes share this run's MariaDB, Redis and chat log for a whole module, like
tests/realtime. daphne serves /static/ through WhiteNoise from a STATIC_ROOT that this file
fills with collectstatic once per run, as a deployment would. People sign in through a
session cookie planted in their browser context.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from playwright.async_api import Browser, async_playwright, expect

from tests.browser.pages import ARTIFACTS, Person
from tests.factories import RoomFactory, UserFactory
from tests.support.servers import daphne_pair as two_daphnes

CHROMIUM = os.environ.get("CHAT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Reconnects wait for a backoff of a few seconds; everything else is quick.
expect.set_options(timeout=15_000)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_failed = report.failed  # read by the `browser` fixture to keep screenshots
    return report


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=str(root)):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture(scope="module")
def daphne_pair(django_db_setup, django_db_blocker, static_root):
    with django_db_blocker.unblock(), two_daphnes("browser-", DJANGO_STATIC_ROOT=str(static_root)) as pair:
        yield pair


@pytest.fixture
def make_person(transactional_db) -> Callable[..., Person]:
    def make(username: str | None = None) -> Person:
        user = UserFactory(**({"username": username} if username else {}))
        client = Client()
        client.force_login(user)
        return Person(id=user.pk, username=user.username, session=client.cookies[settings.SESSION_COOKIE_NAME].value)

    return make


@pytest.fixture
def alice(make_person) -> Person:
    return make_person("alice")


@pytest.fixture
def bob(make_person) -> Person:
    return make_person("bob")


@pytest.fixture
def room(transactional_db):
    return RoomFactory(topic="Where the team talks")


@pytest.fixture
async def browser(request) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            if getattr(request.node, "browser_failed", False):
                await _keep_screenshots(browser, request.node.name)
            await browser.close()


async def _keep_screenshots(browser: Browser, test_name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for c, context in enumerate(browser.contexts):
        for p, page in enumerate(context.pages):
            await page.screenshot(path=ARTIFACTS / f"failed-{test_name}-{c}-{p}.png", full_page=True)
