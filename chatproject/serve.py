"""`python -m chatproject.serve [daphne options]`: daphne with WebSocket limits that match ours.

The app refuses frames over CHAT_MAX_FRAME_BYTES with a readable `too_large` error and keeps
the socket open; daphne itself drops (close 1009) anything over four times that, so no client
can make a process buffer an unbounded message. It runs on the configured event loop
(CHAT_EVENT_LOOP) with the server tunings CHAT_SERVER_TUNINGS asks for
(chatproject.server_tunings).
"""

from __future__ import annotations

import asyncio
import os
import sys

DAPHNE_LIMIT_FACTOR = 4


def _settings():
    # Read before Django is set up (daphne sets it up later): the module must be named first.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings.local")
    from django.conf import settings

    return settings


def daphne_argv(extra: list[str]) -> list[str]:
    limit = str(_settings().CHAT_MAX_FRAME_BYTES * DAPHNE_LIMIT_FACTOR)
    return [
        "--websocket-max-message-size", limit,
        "--websocket-max-frame-size", limit,
        *extra,
        "chatproject.asgi:application",
    ]  # fmt: skip


def use_configured_event_loop() -> None:
    """Before daphne is imported: it creates its event loop when its module loads."""
    if _settings().CHAT_EVENT_LOOP == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def load_daphne() -> type:
    """daphne's command line, on the configured event loop."""
    use_configured_event_loop()
    from chatproject.server_tunings import ChatCommandLineInterface

    return ChatCommandLineInterface


def main() -> None:
    load_daphne()().run(daphne_argv(sys.argv[1:]))


if __name__ == "__main__":
    main()
