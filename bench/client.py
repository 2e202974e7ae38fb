"""One benchmark WebSocket client: connects (with retries), reads every frame into the
current `Tally`, and sends `message.send` frames on a fixed schedule (open loop: a slow
server does not slow the sender down, so its queueing shows up as latency)."""

from __future__ import annotations

import asyncio
import json
import random

import websockets
from websockets.asyncio.client import ClientConnection, connect

from bench.tally import Tally, now_ns

# Big enough for a hello frame listing everyone online in a large room.
MAX_FRAME_BYTES = 2**22


class ConnectFailed(Exception):
    pass


class BenchClient:
    def __init__(self, *, index: int, room: int, url: str, token: str | None, tag: str) -> None:
        self.index = index
        self.room = room
        self.url = url
        self.token = token
        self.tag = tag  # makes client_ids unique across runs on one database
        self.ws: ClientConnection | None = None
        self.tally: Tally | None = None
        self.last_seq = 0
        self.last_from: dict[int, int] = {}  # sender -> highest message number seen from it
        self.sent_count = 0
        self.connect_ns = 0
        self.connect_attempts = 0
        self.close_code: int | None = None
        self.frames = 0
        self.reader: asyncio.Task | None = None

    async def connect(self, *, attempts: int = 20, handshake_timeout: float = 30) -> None:
        """Open the socket and wait for `hello`. Retries refused or timed-out handshakes
        (daphne's listen backlog is 50: a burst of connects overflows it)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        started = now_ns()
        delay = 0.05
        for attempt in range(1, attempts + 1):
            self.connect_attempts = attempt
            try:
                self.ws = await connect(
                    self.url,
                    additional_headers=headers,
                    open_timeout=handshake_timeout,
                    max_size=MAX_FRAME_BYTES,
                    compression=None,
                    ping_interval=None,
                    close_timeout=2,
                )
                hello = json.loads(await asyncio.wait_for(self.ws.recv(), handshake_timeout))
            except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.ConnectionClosed) as error:
                if self.ws is not None:
                    await self.ws.close()
                    self.ws = None
                if attempt == attempts:
                    raise ConnectFailed(f"client {self.index}: {error!r}") from error
                await asyncio.sleep(delay * (1 + random.random()))  # noqa: S311 (jitter, not crypto)
                delay = min(delay * 2, 2.0)
                continue
            if hello.get("type") != "hello":
                raise ConnectFailed(f"client {self.index}: expected hello, got {hello}")
            self.last_seq = hello.get("last_seq") or 0
            self.connect_ns = now_ns() - started
            self.reader = asyncio.create_task(self._read())
            return

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.frames += 1
                tally = self.tally
                if tally is None:
                    continue
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message.new":
                    self._on_message(tally, frame["message"])
                elif kind == "message.ack":
                    tally.on_ack(frame["client_id"], frame["message"]["seq"], now_ns())
                elif kind == "error":
                    tally.on_error(frame.get("code") or "error", frame.get("client_id"))
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.ws is not None and self.ws.close_code is not None:
                self.close_code = self.ws.close_code

    def _on_message(self, tally: Tally, message: dict) -> None:
        client_id = message.get("client_id") or ""
        if not tally.on_delivery(self.index, client_id, now_ns()):
            return
        seq = message.get("seq", 0)
        if tally.seq_ordered:
            if seq <= self.last_seq:
                tally.seq_regressions += 1
            self.last_seq = max(self.last_seq, seq)
        _, sender, number = client_id.split(".")
        sender, number = int(sender), int(number)
        if number < self.last_from.get(sender, -1):
            tally.out_of_order += 1
        else:
            self.last_from[sender] = number

    async def send_one(self) -> None:
        tally = self.tally
        number = self.sent_count
        self.sent_count += 1
        client_id = f"{self.tag}.{self.index}.{number}"
        sent_ns = now_ns()
        tally.on_send(client_id, sender=self.index, room=self.room, sent_ns=sent_ns)
        # The body carries the send time too, so a stored message tells when it was offered.
        body = f"{sent_ns} bench message {number} from client {self.index}"
        await self.ws.send(json.dumps({"type": "message.send", "client_id": client_id, "body": body}))

    async def send_loop(self, *, rate: float, start: float, end: float, lag: list[float]) -> None:
        """Send at `rate` messages/s between loop times `start` and `end` (random phase).
        Appends how late the worst send was to `lag`."""
        loop = asyncio.get_running_loop()
        interval = 1 / rate
        due = start + random.random() * interval  # noqa: S311
        worst = 0.0
        while due < end:
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                worst = max(worst, -wait)
            if self.ws is None or self.ws.close_code is not None:
                break
            try:
                await self.send_one()
            except websockets.ConnectionClosed:
                break
            due += interval
        lag.append(worst)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)

    @property
    def is_open(self) -> bool:
        return self.ws is not None and self.ws.close_code is None
