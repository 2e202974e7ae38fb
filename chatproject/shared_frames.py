"""An ASGI extension of our server: a frame framed once and written to many sockets at once.

A room message goes to every socket of the room on this process. Through plain ASGI each copy
is its own `websocket.send`: a coroutine chain through Channels' middleware and daphne that
encodes and frames the same text again for every socket, which was most of a delivery's cost.
`python -m chatproject.serve` puts into every WebSocket scope `extensions["chat.send_shared"]`:
a plain function that writes a `SharedFrame` to that socket right away, framed once for all of
them, and says whether it could (False once the socket is closing or closed).

The room consumer writes its other frames (acks, replays, presence) the same way, one socket's
frame at a time: cheaper than `websocket.send` even when nothing is shared. Servers without the
extension (uvicorn, Channels' test communicator) simply get `websocket.send`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SEND_SHARED = "chat.send_shared"

SendShared = Callable[["SharedFrame"], bool]


class SharedFrame:
    """One text frame for many sockets; the server keeps its wire form here after the first."""

    __slots__ = ("text", "wire")

    def __init__(self, text: str) -> None:
        self.text = text
        self.wire: Any = None


def send_shared_of(scope: dict) -> SendShared | None:
    return scope.get("extensions", {}).get(SEND_SHARED)
