"""In-order, gap-free delivery of a room's messages to one session.

The channel layer is only a hint: it may drop or reorder group messages. The log is the
truth. Each session remembers the highest seq it has delivered. A message that skips ahead
is held back for a moment, since the missing ones are usually just behind it (two senders'
broadcasts race); whatever is still missing after GAP_WAIT_SECONDS is read from the log. A
seq already delivered is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol

from messages.chatlog import ChatLog, ChatLogUnavailable
from messages.realtime import protocol
from messages.realtime.protocol import ServerFrame

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
# Long enough for a reordered broadcast to arrive, short enough that a lost one shows soon.
GAP_WAIT_SECONDS = 0.1


class Output(Protocol):
    """Where a session's frames go: its endpoint's codec (messages.json_endpoint, messages.stomp)."""

    def write_now(self, frames: Sequence[ServerFrame]) -> bool:
        """Write the frames now, in order, without waiting; False: nothing was written, use `write`."""

    async def write(self, frames: Sequence[ServerFrame]) -> None:
        """Write the frames, in order."""


class RoomStream:
    def __init__(
        self,
        *,
        chatlog: ChatLog,
        room_id: int,
        room_slug: str,
        output: Output,
        delivered_seq: int,
        on_unavailable: Callable[[], Awaitable[None]],
        gap_wait: float = GAP_WAIT_SECONDS,
    ):
        self.chatlog = chatlog
        self.room_id = room_id
        self.room_slug = room_slug
        self.output = output
        self.delivered_seq = delivered_seq
        # Called when a gap cannot be filled: the session should end so that the client
        # reconnects and resumes, rather than show a gap.
        self.on_unavailable = on_unavailable
        self.gap_wait = gap_wait
        self._held: dict[int, ServerFrame] = {}  # seq -> frame, waiting for the seqs before it
        self._gap_filler: asyncio.Task | None = None
        # The session's own sends and the room's events arrive on two tasks: one at a time.
        self._lock = asyncio.Lock()

    async def deliver(self, *, seq: int, frame: ServerFrame) -> None:
        """Deliver one live message (its `message.new` frame), or hold it until the seqs
        before it have been delivered."""
        async with self._lock:
            await self._deliver(seq=seq, frame=frame)

    def is_idle(self) -> bool:
        """Nothing in progress and nothing held: a live message that comes next may be written
        right away, synchronously, by the caller, who then calls `delivered(seq)`."""
        return not self._held and not self._lock.locked()

    def delivered(self, seq: int) -> None:
        self.delivered_seq = max(self.delivered_seq, seq)

    def close(self) -> None:
        if self._gap_filler is not None:
            self._gap_filler.cancel()

    @contextlib.asynccontextmanager
    async def own_send(self) -> AsyncIterator[Callable[[int, ServerFrame], Awaitable[None]]]:
        """Hold the stream while this session posts, acks and shows its own message, so that the
        room's copy of the message cannot reach the socket before its ack. Yields a `deliver`
        that shows the message only if it comes next: when messages before it are still on
        their way (sent by other processes, whose broadcasts race this one), its room copy
        brings it in turn, and the session neither holds it nor reads the log for the others."""

        async def deliver_if_next(seq: int, frame: ServerFrame) -> None:
            if seq == self.delivered_seq + 1:
                await self._deliver(seq=seq, frame=frame)

        async with self._lock:
            yield deliver_if_next

    async def _deliver(self, *, seq: int, frame: ServerFrame) -> None:
        if seq <= self.delivered_seq:
            return
        self._held.setdefault(seq, frame)
        await self._send_held()
        if self._held and self._gap_filler is None:
            self._gap_filler = asyncio.create_task(self._fill_gap_soon())

    async def _send_held(self) -> None:
        """Send the held messages that now come next; forget those delivered meanwhile."""
        ready = []
        while (frame := self._held.pop(self.delivered_seq + len(ready) + 1, None)) is not None:
            ready.append(frame)
        if ready:
            self.delivered_seq += len(ready)
            await self.output.write(ready)
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
        """Deliver every stored message up to `through_seq` that this session has not had.

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
            await self.output.write(
                [
                    ServerFrame.of(
                        protocol.new_message_frame(protocol.message_payload(message, room_slug=self.room_slug))
                    )
                    for message in page
                ]
            )
            cursor = page[-1].seq
            self.delivered_seq = max(self.delivered_seq, cursor)

    async def _send(self, frame: dict) -> None:
        await self.output.write((ServerFrame.of(frame),))
