"""In-order, gap-free delivery of a room's messages to one socket.

The channel layer is only a hint: it may drop or reorder group messages. The log is the
truth. Each socket remembers the highest seq it has delivered; a message that skips ahead
is preceded by the missing ones, read from the log, and a seq already delivered is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from messages import protocol
from messages.chatlog import ChatLog

logger = logging.getLogger(__name__)

PAGE_SIZE = 100

SendText = Callable[[str], Awaitable[None]]


class RoomStream:
    def __init__(self, *, chatlog: ChatLog, room_id: int, room_slug: str, send_text: SendText, delivered_seq: int):
        self.chatlog = chatlog
        self.room_id = room_id
        self.room_slug = room_slug
        self.send_text = send_text
        self.delivered_seq = delivered_seq
        # The socket's own sends and the room's events arrive on two tasks: one at a time.
        self._lock = asyncio.Lock()

    async def deliver(self, *, seq: int, text: str) -> None:
        """Deliver one live message (its `message.new` frame already encoded), filling any gap first.

        Raises ChatLogUnavailable when a gap cannot be filled: the caller closes the socket so
        that the client reconnects and resumes, rather than showing a gap.
        """
        async with self._lock:
            await self._deliver(seq=seq, text=text)

    @contextlib.asynccontextmanager
    async def own_send(self) -> AsyncIterator[Callable[[int, str], Awaitable[None]]]:
        """Hold the stream while this socket posts, acks and shows its own message, so that the
        room's copy of the message cannot reach the socket before its ack. Yields `deliver`."""
        async with self._lock:
            yield lambda seq, text: self._deliver(seq=seq, text=text)

    async def _deliver(self, *, seq: int, text: str) -> None:
        if seq <= self.delivered_seq:
            return
        if seq > self.delivered_seq + 1:
            await self._replay_range(after_seq=self.delivered_seq, through_seq=seq - 1)
        await self.send_text(text)
        self.delivered_seq = seq

    async def catch_up(self, *, through_seq: int) -> None:
        """Deliver every stored message up to `through_seq` that this socket has not had."""
        async with self._lock:
            if through_seq > self.delivered_seq:
                await self._replay_range(after_seq=self.delivered_seq, through_seq=through_seq)

    async def resume(self, *, after_seq: int, cap: int) -> None:
        """Send every stored message after `after_seq` (the newest `cap` of them if there are
        more, announced by `resume.truncated`), then `resume.done`; live delivery goes on from there."""
        async with self._lock:
            last_seq = await self.chatlog.last_seq(room_id=self.room_id)
            start = after_seq
            if last_seq - after_seq > cap:
                start = last_seq - cap
                await self._send(
                    protocol.resume_truncated_frame(after_seq=after_seq, first_seq=start + 1, last_seq=last_seq)
                )
            await self._replay_range(after_seq=start, through_seq=last_seq)
            self.delivered_seq = max(self.delivered_seq, last_seq)
            await self._send(protocol.resume_done_frame(last_seq=self.delivered_seq))

    async def _replay_range(self, *, after_seq: int, through_seq: int) -> None:
        cursor = after_seq
        while cursor < through_seq:
            page = await self.chatlog.page_after(
                room_id=self.room_id, after_seq=cursor, limit=min(PAGE_SIZE, through_seq - cursor)
            )
            if not page:
                logger.warning(
                    "room %s: log has nothing after seq %s (expected up to %s)", self.room_id, cursor, through_seq
                )
                return
            for message in page:
                await self._send(
                    protocol.new_message_frame(protocol.message_payload(message, room_slug=self.room_slug))
                )
                cursor = message.seq
            self.delivered_seq = max(self.delivered_seq, cursor)

    async def _send(self, frame: dict) -> None:
        await self.send_text(protocol.encode(frame))
