"""Heart-beats (STOMP 1.1+): agree on the periods in CONNECT, then keep them.

The server sends an EOL whenever it has been quiet for its period, and ends a connection
whose client has been silent for HEARTBEAT_GRACE of the client's periods. Before CONNECT,
a socket has CONNECT_TIMEOUT_SECONDS to send one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from messages.stomp.errors import INVALID_FRAME, StompError
from messages.stomp.frames import Frame

# The shortest period either side gets, in ms: what the server offers in CONNECTED.
HEARTBEAT_MIN_MS = 1000
# How many of its periods the client may stay silent (the spec asks for some slack).
HEARTBEAT_GRACE = 2
CONNECT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Heartbeats:
    """Agreed periods in ms; 0 means never."""

    send_ms: int
    expect_ms: int

    @classmethod
    def negotiate(cls, frame: Frame) -> Heartbeats:
        # Client `heart-beat: cx,cy`: it can send every cx ms and wants to receive every cy ms.
        # Both sides take the larger of the two offers, so both compute the same periods.
        cx, cy = _client_offer(frame.header("heart-beat"))
        return cls(
            send_ms=max(cy, HEARTBEAT_MIN_MS) if cy else 0,
            expect_ms=max(cx, HEARTBEAT_MIN_MS) if cx else 0,
        )

    @staticmethod
    def server_offer() -> str:
        return f"{HEARTBEAT_MIN_MS},{HEARTBEAT_MIN_MS}"


def _client_offer(value: str | None) -> tuple[int, int]:
    if value is None:
        return 0, 0
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 2 or not all(part.isascii() and part.isdigit() and len(part) <= 9 for part in parts):
        raise StompError(INVALID_FRAME, "heart-beat must be two non-negative integers: 'cx,cy'.")
    return int(parts[0]), int(parts[1])


class Liveness:
    """One connection's clock: when it last heard the client, when it last sent anything."""

    def __init__(self, *, send_beat: Callable[[], Awaitable[None]], timed_out: Callable[[str], Awaitable[None]]):
        self.send_beat = send_beat
        self.timed_out = timed_out  # async (reason) -> None: ends the connection
        self.last_received = self.last_sent = time.monotonic()
        self.busy_since: float | None = None
        self.task: asyncio.Task | None = None

    def received(self) -> None:
        self.last_received = time.monotonic()

    def sent(self) -> None:
        self.last_sent = time.monotonic()

    @contextmanager
    def busy(self) -> Iterator[None]:
        """While the server handles one frame or event, the client's next frames wait in its
        queue: that time is not the client's silence, or a long replay would look like a dead
        client."""
        self.busy_since = started = time.monotonic()
        try:
            yield
        finally:
            self.busy_since = None
            self.last_received += time.monotonic() - started

    def await_connect(self) -> None:
        self._run(self._connect_deadline())

    def keep(self, heartbeats: Heartbeats) -> None:
        """Replace the CONNECT deadline with the agreed heart-beats (if any)."""
        self.stop()
        if heartbeats.send_ms or heartbeats.expect_ms:
            self._run(self._beat(heartbeats.send_ms / 1000, heartbeats.expect_ms / 1000 * HEARTBEAT_GRACE))

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    def _run(self, coroutine) -> None:
        self.stop()
        self.task = asyncio.create_task(coroutine)

    async def _connect_deadline(self) -> None:
        await asyncio.sleep(CONNECT_TIMEOUT_SECONDS)
        await self.timed_out(f"No CONNECT frame within {CONNECT_TIMEOUT_SECONDS} s.")

    async def _beat(self, send_s: float, silence_s: float) -> None:
        while True:
            now = time.monotonic()
            if silence_s and self._silence(now) >= silence_s:
                return await self.timed_out(f"Nothing received for {silence_s:g} s (heart-beat).")
            if send_s and now - self.last_sent >= send_s:
                await self.send_beat()
            now = time.monotonic()
            deadlines = [self.last_sent + send_s] if send_s else []
            if silence_s:
                deadlines.append(now + silence_s - self._silence(now))
            await asyncio.sleep(max(0.01, min(deadlines) - now))

    def _silence(self, now: float) -> float:
        """How long the client has had the chance to be heard and was not."""
        busy = now - self.busy_since if self.busy_since is not None else 0.0
        return now - self.last_received - busy
