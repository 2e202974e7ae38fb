"""In-order, gap-free delivery of a room's messages to one socket.

The channel layer is only a hint: it may drop or reorder group messages. The log is the
truth. Each socket remembers the highest seq it has delivered. A message that skips ahead
is held back for a moment, since the missing ones are usually just behind it (two senders'
broadcasts race); whatever is still missing after GAP_WAIT_SECONDS is read from the log. A
seq already delivered is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from chatproject.shared_frames import SendShared, SharedFrame
from messages import protocol
from messages.chatlog import ChatLog, ChatLogUnavailable

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
# Long enough for a reordered broadcast to arrive, short enough that a lost one shows soon.
GAP_WAIT_SECONDS = 0.1

SendText = Callable[[str], Awaitable[None]]
LiveFrame = str | SharedFrame  # a message.new frame, encoded; shared when the hub has it framed once for all


class RoomStream:
    def __init__(
        self,
        *,
        chatlog: ChatLog,
        room_id: int,
        room_slug: str,
        send_text: SendText,
        delivered_seq: int,
        on_unavailable: Callable[[], Awaitable[None]],
        send_shared: SendShared | None = None,
        gap_wait: float = GAP_WAIT_SECONDS,
    ):
        self.chatlog = chatlog
        self.room_id = room_id
        self.room_slug = room_slug
        self.send_text = send_text
        # The server's synchronous write of a frame shared by the room's sockets, if it has one.
        self.send_shared = send_shared
        self.delivered_seq = delivered_seq
        # Called when a gap cannot be filled: the socket should close so that the client
        # reconnects and resumes, rather than show a gap.
        self.on_unavailable = on_unavailable
        self.gap_wait = gap_wait
        self._held: dict[int, LiveFrame] = {}  # seq -> frame, waiting for the seqs before it
        self._gap_filler: asyncio.Task | None = None
        # The socket's own sends and the room's events arrive on two tasks: one at a time.
        self._lock = asyncio.Lock()

    async def deliver(self, *, seq: int, frame: LiveFrame) -> None:
        """Deliver one live message (its `message.new` frame already encoded), or hold it until
        the seqs before it have been delivered."""
        async with self._lock:
            await self._deliver(seq=seq, frame=frame)

    def deliver_now(self, *, seq: int, frame: SharedFrame) -> bool:
        """Deliver one live message synchronously if it simply comes next and nothing else is
        in progress on this stream. False: nothing was sent, use `deliver`."""
        if seq <= self.delivered_seq:
            return True  # delivered already; delivered_seq only grows, even mid-replay
        if self.send_shared is None or self._lock.locked() or self._held or seq != self.delivered_seq + 1:
            return False
        if not self.send_shared(frame):
            return False
        self.delivered_seq = seq
        return True

    def close(self) -> None:
        if self._gap_filler is not None:
            self._gap_filler.cancel()

    @contextlib.asynccontextmanager
    async def own_send(self) -> AsyncIterator[Callable[[int, str], Awaitable[None]]]:
        """Hold the stream while this socket posts, acks and shows its own message, so that the
        room's copy of the message cannot reach the socket before its ack. Yields a `deliver`
        that shows the message only if it comes next: when messages before it are still on
        their way (sent by other processes, whose broadcasts race this one), its room copy
        brings it in turn, and the socket neither holds it nor reads the log for the others."""

        async def deliver_if_next(seq: int, frame: str) -> None:
            if seq == self.delivered_seq + 1:
                await self._deliver(seq=seq, frame=frame)

        async with self._lock:
            yield deliver_if_next

    async def _deliver(self, *, seq: int, frame: LiveFrame) -> None:
        if seq <= self.delivered_seq:
            return
        self._held.setdefault(seq, frame)
        await self._send_held()
        if self._held and self._gap_filler is None:
            self._gap_filler = asyncio.create_task(self._fill_gap_soon())

    async def _send_held(self) -> None:
        """Send the held messages that now come next; forget those delivered meanwhile."""
        while (frame := self._held.pop(self.delivered_seq + 1, None)) is not None:
            await self._send_live(frame)
            self.delivered_seq += 1
        for seq in [seq for seq in self._held if seq <= self.delivered_seq]:
            del self._held[seq]

    async def _fill_gap_soon(self) -> None:
        await asyncio.sleep(self.gap_wait)
        try:
            async with self._lock:
                if self._held:
                    await self._replay_range(after_seq=self.delivered_seq, through_seq=min(self._held) - 1)
                    await self._send_held()
        except ChatLogUnavailable:
            self._gap_filler = None
            await self.on_unavailable()
            return
        self._gap_filler = None
        if self._held:  # a gap the log could not fill yet (it warned): look again later
            self._gap_filler = asyncio.create_task(self._fill_gap_soon())

    async def catch_up(self, *, through_seq: int) -> None:
        """Deliver every stored message up to `through_seq` that this socket has not had.

        Raises ChatLogUnavailable."""
        async with self._lock:
            if through_seq > self.delivered_seq:
                await self._replay_range(after_seq=self.delivered_seq, through_seq=through_seq)
                await self._send_held()

    async def resume(self, *, after_seq: int, cap: int) -> None:
        """Send every stored message after `after_seq` (the newest `cap` of them if there are
        more, announced by `resume.truncated`), then `resume.done`; live delivery goes on from there.

        Raises ChatLogUnavailable."""
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
            await self._send_held()
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

    async def _send_live(self, frame: LiveFrame) -> None:
        if isinstance(frame, str):
            await self.send_text(frame)
        elif self.send_shared is None or not self.send_shared(frame):
            await self.send_text(frame.text)

    async def _send(self, frame: dict) -> None:
        await self.send_text(protocol.encode(frame))
