"""An ASGI extension of our server: frames written to a socket now, each framed once for all.

A room message goes to every socket of the room on this process. Through plain ASGI each copy
is its own `websocket.send`: a coroutine chain through Channels' middleware and daphne that
frames the same text again for every socket. With the `shared-frames` server tuning
(chatproject.server_tunings), every WebSocket scope carries `extensions["chat.send_frames"]`:
a plain function that writes a sequence of `SharedFrame`s to that socket right away, in
order and in one write, framing each frame once for every socket it goes to, and says whether
it could (False once the socket is closing or closed: nothing was written).

Servers without the extension (plain daphne, uvicorn, Channels' test communicator) simply get
`websocket.send`, a frame at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

SEND_FRAMES = "chat.send_frames"


class SharedFrame:
    """One text frame for many sockets; the server keeps its wire form here after the first."""

    __slots__ = ("text", "wire")

    def __init__(self, text: str) -> None:
        self.text = text
        self.wire: Any = None


SendFrames = Callable[[Sequence[SharedFrame]], bool]


def send_frames_of(scope: dict) -> SendFrames | None:
    return scope.get("extensions", {}).get(SEND_FRAMES)
