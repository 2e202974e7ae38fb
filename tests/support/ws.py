"""A real WebSocket client (the `websockets` library) speaking the room protocol."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

QUIET_TYPES = {"presence", "typing"}


async def connect(url: str, *, token: str | None, cookie: str | None, origin: str | None, **options):
    """A real WebSocket handshake, signed in by token header or session cookie (or neither)."""
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = cookie
    return await websockets.connect(
        url, additional_headers=headers, origin=origin, open_timeout=10, max_size=2**22, **options
    )


async def close_code(ws, timeout: float = 5) -> int:
    """Wait for the server to close the socket (skipping what it still sends); its close code."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else 1006


class ChatClient:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.hello: dict | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        token: str | None = None,
        cookie: str | None = None,
        origin: str | None = None,
        expect_hello: bool = True,
    ) -> ChatClient:
        client = cls(await connect(url, token=token, cookie=cookie, origin=origin))
        if expect_hello:
            client.hello = await client.expect("hello")
        return client

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        # Raw UTF-8, as browsers' JSON.stringify sends it (\u escapes would count 6-12 bytes a character).
        await self.ws.send(frame if isinstance(frame, (str, bytes)) else json.dumps(frame, ensure_ascii=False))

    async def send_message(self, client_id: str, body: str) -> None:
        await self.send({"type": "message.send", "client_id": client_id, "body": body})

    async def post(self, client_id: str, body: str) -> dict:
        """Send a message and wait for its ack and its own message.new; the stored message."""
        await self.send_message(client_id, body)
        ack = await self.expect("message.ack")
        assert (await self.messages(1))[0] == ack["message"]
        return ack["message"]

    async def next_frame(self, timeout: float = 5, *, include_quiet: bool = False) -> dict:
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if include_quiet or frame["type"] not in QUIET_TYPES:
                return frame

    async def expect(self, frame_type: str, timeout: float = 5) -> dict:
        frame = await self.next_frame(timeout, include_quiet=frame_type in QUIET_TYPES)
        while frame_type in QUIET_TYPES and frame["type"] != frame_type:
            frame = await self.next_frame(timeout, include_quiet=True)
        assert frame["type"] == frame_type, f"expected {frame_type}, got {frame}"
        return frame

    async def messages(self, count: int, timeout: float = 10) -> list[dict]:
        """The next `count` message.new payloads, failing on any other frame."""
        received = []
        for _ in range(count):
            frame = await self.next_frame(timeout)
            assert frame["type"] == "message.new", f"expected message.new, got {frame}"
            received.append(frame["message"])
        return received

    async def collect_messages(self, count: int, timeout: float = 20) -> list[dict]:
        """The next `count` message.new payloads, passing over this client's own acks."""
        messages = []
        while len(messages) < count:
            frame = await self.next_frame(timeout)
            assert frame["type"] in {"message.new", "message.ack"}, frame
            if frame["type"] == "message.new":
                messages.append(frame["message"])
        return messages

    async def assert_silent(self, seconds: float = 0.5, *, include_quiet: bool = False) -> None:
        try:
            frame = await self.next_frame(seconds, include_quiet=include_quiet)
        except TimeoutError:
            return
        raise AssertionError(f"expected no frame, got {frame}")

    async def presence_becomes(self, usernames: set[str], timeout: float = 10) -> None:
        """Read presence frames until one lists exactly `usernames` online."""
        seen = []
        deadline = asyncio.get_running_loop().time() + timeout
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                frame = await self.next_frame(left, include_quiet=True)
            except TimeoutError:
                break
            if frame["type"] == "presence":
                online = {user["username"] for user in frame["online"]}
                if online == usernames:
                    return
                seen.append(online)
        raise AssertionError(f"presence never became {usernames}; saw {seen}")

    async def frames_within(self, seconds: float) -> list[dict]:
        """Every frame (presence and typing included) that arrives within `seconds`."""
        frames = []
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                frames.append(await self.next_frame(left, include_quiet=True))
            except TimeoutError:
                break
        return frames

    async def close_code(self, timeout: float = 5) -> int:
        return await close_code(self.ws, timeout)

    async def close(self) -> None:
        await self.ws.close()
