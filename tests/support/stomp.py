"""A bare STOMP client over a real WebSocket (the `websockets` library), for precise protocol tests.

It sends exactly the bytes a test gives it; the clients we did not write (stompjs, stomp.py)
are driven by their own tests.
"""

from __future__ import annotations

import asyncio
import itertools
import json

from messages.stomp.frames import SERVER_COMMANDS, Frame, FrameParser, encode
from tests.support.ws import close_code, connect

SUBPROTOCOLS = ("v12.stomp", "v11.stomp", "v10.stomp")


class StompClient:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.version = "1.2"
        self.heartbeats = 0  # bare EOLs received
        self.pending: list[Frame] = []
        self.receipts = itertools.count(1)
        self.parser = FrameParser(commands=SERVER_COMMANDS, max_frame_bytes=1 << 22, version="1.0")

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        token: str | None = None,
        cookie: str | None = None,
        origin: str | None = None,
        subprotocols: tuple[str, ...] | None = SUBPROTOCOLS,
    ) -> StompClient:
        return cls(await connect(url, token=token, cookie=cookie, origin=origin, subprotocols=subprotocols))

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    # --- sending ------------------------------------------------------------------------

    async def send_raw(self, data: bytes | str) -> None:
        await self.ws.send(data)

    async def send_frame(self, command: str, headers: dict[str, str] | None = None, body: bytes | str = b"") -> None:
        body = body.encode() if isinstance(body, str) else body
        data = encode(command, headers or {}, body, version=self.version)
        try:
            await self.ws.send(data.decode())  # a text message, as browsers' clients send
        except UnicodeDecodeError:
            await self.ws.send(data)

    async def connect(self, **headers: str) -> Frame:
        """CONNECT (1.2 by default) and return CONNECTED; fails on an ERROR."""
        headers = {"accept-version": "1.2", "host": "chat", **{k.replace("_", "-"): v for k, v in headers.items()}}
        await self.send_frame("CONNECT", headers)
        connected = await self.expect("CONNECTED")
        self.version = self.parser.version = connected.header("version")
        return connected

    async def subscribe(self, sub_id: str, slug: str, **headers: str) -> Frame:
        """SUBSCRIBE with a receipt; return the RECEIPT."""
        extra = {k.replace("_", "-"): v for k, v in headers.items()}
        await self.send_frame(
            "SUBSCRIBE", {"id": sub_id, "destination": f"/topic/rooms.{slug}", "receipt": f"sub-{sub_id}", **extra}
        )
        return await self.expect("RECEIPT")

    async def post(self, slug: str, body: str, **headers: str) -> Frame:
        """SEND with a receipt; return the RECEIPT (which carries message-id and seq)."""
        extra = {k.replace("_", "-"): v for k, v in headers.items()}
        extra.setdefault("receipt", f"send-{next(self.receipts)}")
        await self.send_frame("SEND", {"destination": f"/app/rooms.{slug}", **extra}, body)
        receipt = await self.expect("RECEIPT")
        assert receipt.header("receipt-id") == extra["receipt"]
        return receipt

    # --- receiving ----------------------------------------------------------------------

    async def next_frame(self, timeout: float = 5) -> Frame:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.pending:
            data = await asyncio.wait_for(self.ws.recv(), max(0.0, deadline - loop.time()))
            data = data.encode() if isinstance(data, str) else data
            frames = list(self.parser.parse(data))
            if not frames and data.strip(b"\r\n") == b"":
                self.heartbeats += 1
            self.pending.extend(frames)
        return self.pending.pop(0)

    async def expect(self, command: str, timeout: float = 5) -> Frame:
        frame = await self.next_frame(timeout)
        assert frame.command == command, f"expected {command}, got {frame}"
        return frame

    async def messages(self, count: int, *, subscription: str | None = None, timeout: float = 10) -> list[dict]:
        """The next `count` MESSAGE frames of type message.new, as message objects."""
        received = []
        for _ in range(count):
            frame = await self.expect("MESSAGE", timeout)
            assert frame.header("type") == "message.new", frame
            if subscription is not None:
                assert frame.header("subscription") == subscription, frame
            message = json.loads(frame.body)
            assert frame.header("message-id") == message["id"] and frame.header("seq") == str(message["seq"])
            received.append(message)
        return received

    async def assert_silent(self, seconds: float = 0.5) -> None:
        try:
            frame = await self.next_frame(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected no frame, got {frame}")

    async def error_and_close(self, timeout: float = 5) -> tuple[Frame, int]:
        """The ERROR frame the server sends, and the close code that must follow it."""
        error = await self.expect("ERROR", timeout)
        return error, await self.close_code(timeout)

    async def close_code(self, timeout: float = 5) -> int:
        return await close_code(self.ws, timeout)

    async def close(self) -> None:
        await self.ws.close()
