"""`python -m chatproject.serve [daphne options]`: daphne with WebSocket limits that match ours.

The app refuses frames over CHAT_MAX_FRAME_BYTES with a readable `too_large` error and keeps
the socket open; daphne itself drops (close 1009) anything over four times that, so no client
can make a process buffer an unbounded message. It also offers the app the `chat.send_shared`
extension (chatproject.shared_frames): a room message framed once for all of its sockets.
"""

from __future__ import annotations

import os
import sys

DAPHNE_LIMIT_FACTOR = 4


def daphne_argv(extra: list[str]) -> list[str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings.local")
    from django.conf import settings

    limit = str(settings.CHAT_MAX_FRAME_BYTES * DAPHNE_LIMIT_FACTOR)
    return [
        "--websocket-max-message-size", limit,
        "--websocket-max-frame-size", limit,
        *extra,
        "chatproject.asgi:application",
    ]  # fmt: skip


def main() -> None:
    from chatproject.daphne_server import ChatCommandLineInterface

    ChatCommandLineInterface().run(daphne_argv(sys.argv[1:]))


if __name__ == "__main__":
    main()
