"""The room page as a test sees it: what a person does (type, press Enter, scroll) and what
they can read (messages, their state, the connection status, errors)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, expect

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

T = TypeVar("T")


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    session: str  # a signed-in session key, planted as the session cookie


@dataclass
class RoomPage:
    page: Page
    context: BrowserContext
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    async def open(
        cls,
        browser: Browser,
        person: Person,
        base_url: str,
        slug: str,
        *,
        viewport: dict = DESKTOP,
        timezone_id: str = "Europe/Berlin",
        setup: Callable[[BrowserContext], Awaitable[None]] | None = None,
        **options: Any,
    ) -> RoomPage:
        context = await browser.new_context(viewport=viewport, locale="en-GB", timezone_id=timezone_id, **options)
        await context.add_cookies([{"name": "sessionid", "value": person.session, "url": base_url}])
        if setup is not None:
            await setup(context)
        page = await context.new_page()
        room = cls(page, context)
        page.on("dialog", room._dialog)
        page.on("pageerror", lambda error: room.errors.append(f"page error: {error}"))
        page.on("console", room._console)
        await page.goto(f"{base_url}/rooms/{slug}/")
        await room.wait_live()
        return room

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        # A dropped connection makes Chromium log the failed handshake; that is expected.
        if message.type == "error" and "WebSocket" not in message.text:
            self.errors.append(f"console: {message.text} ({message.location.get('url')})")

    # --- what a person does --------------------------------------------------------------

    @property
    def box(self):
        return self.page.locator("#message-body")

    async def send(self, text: str) -> None:
        await self.box.fill(text)
        await self.box.press("Enter")

    # --- what a person sees --------------------------------------------------------------

    @property
    def status(self):
        return self.page.get_by_test_id("connection-status")

    @property
    def composer_error(self):
        return self.page.get_by_test_id("composer-error")

    def message(self, body: str):
        return self.page.locator("#messages > li", has=self.page.locator(".body", has_text=body))

    async def wait_live(self) -> None:
        await expect(self.status).to_have_attribute("data-state", "live")

    async def entries(self) -> list[dict]:
        """Every message shown, top to bottom: seq (None while unconfirmed), author, body, state."""
        return await self.page.eval_on_selector_all(
            "#messages > li",
            """items => items.map(li => ({
            seq: li.dataset.seq ? Number(li.dataset.seq) : null,
            author: li.querySelector('.author').textContent,
            body: li.querySelector('.body').textContent,
            state: li.dataset.state,
        }))""",
        )

    async def bodies(self) -> list[str]:
        return [entry["body"] for entry in await self.entries()]

    async def wait_for_bodies(self, expected: list[str], timeout: float = 20) -> list[dict]:
        """Wait until exactly `expected` is shown, all sent, in this order; the entries."""

        async def shown():
            entries = await self.entries()
            ok = [e["body"] for e in entries] == expected and all(e["state"] == "sent" for e in entries)
            return entries if ok else None

        return await eventually(shown, timeout, describe=lambda: self.entries())

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"the page opened dialogs: {self.dialogs}"
        assert self.errors == [], f"the page had errors: {self.errors}"

    async def close(self) -> None:
        await self.context.close()


async def eventually[T](
    check: Callable[[], Awaitable[T | None]],
    timeout: float = 15,
    *,
    describe: Callable[[], Awaitable[Any]] | None = None,
) -> T:
    """Poll `check` until it returns something truthy; fail with what was seen last."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            seen = await describe() if describe else result
            raise AssertionError(f"still not true after {timeout} s; last seen: {seen}")
        await asyncio.sleep(0.1)
