"""One room's live messages put back in seq order, once per process rather than once per socket.

Two processes that store messages in the same room publish them in the order their event
loops get round to it, not in seq order, so a broadcast often arrives just ahead of the one
before it. Each socket would then hold it back, start a timer and, if the missing message
took longer than the socket's wait, read it from the log: that is work per recipient, and it
grows with the load that makes the race likelier. The hub keeps one `RoomOrder` per room and
hands its sockets the messages in order, so they take the fast path; after `gap_wait` it
reads what is still missing from the log once, for all of them.

This is an optimisation only: sockets keep their own in-order, gap-filling delivery
(messages.realtime.delivery), so a message the hub cannot find is still filled by each session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

HandOut = Callable[[dict], None]
# (after_seq, through_seq) -> the stored messages in that range as `message.posted` events, in order
FetchStored = Callable[[int, int], Awaitable[list[dict]]]


class RoomOrder:
    def __init__(self, *, hand_out: HandOut, fetch_stored: FetchStored, gap_wait: float) -> None:
        self._hand_out = hand_out
        self._fetch_stored = fetch_stored
        self._gap_wait = gap_wait
        # The highest seq handed out with every seq before it (as far as this process knows);
        # None until the first message, which is taken as the start.
        self.released_seq: int | None = None
        self._held: dict[int, dict] = {}  # seq -> event that came ahead of its turn
        self._filler: asyncio.Task | None = None

    @property
    def highest_seq(self) -> int:
        """The highest seq this process has heard of in the room, handed out or held (0: none)."""
        return max(self.released_seq or 0, max(self._held, default=0))

    def push(self, event: dict) -> None:
        """A `message.posted` event from the channel layer."""
        seq = event["seq"]
        if self.released_seq is None or seq <= self.released_seq:
            # The first one, or one that comes after the hub stopped waiting for it: the
            # sockets that have not had it take it, the others drop it.
            if self.released_seq is None:
                self.released_seq = seq
            self._hand_out(event)
            return
        if seq == self.released_seq + 1:
            self._release(event)
            self._release_consecutive()
            return
        self._held.setdefault(seq, event)
        if self._filler is None:
            self._filler = asyncio.create_task(self._fill_soon())

    def caught_up(self, through_seq: int) -> None:
        """Every socket here was told to read the log through `through_seq` (the hub's tail check)."""
        if self.released_seq is not None and through_seq <= self.released_seq:
            return
        self.released_seq = through_seq
        for seq in sorted(seq for seq in self._held if seq <= through_seq):
            self._hand_out(self._held.pop(seq))  # the sockets drop it, or have it from the log
        self._release_consecutive()

    def close(self) -> None:
        if self._filler is not None:
            self._filler.cancel()

    def _release(self, event: dict) -> None:
        self.released_seq = event["seq"]
        self._hand_out(event)

    def _release_consecutive(self) -> None:
        while (event := self._held.pop(self.released_seq + 1, None)) is not None:
            self._release(event)

    async def _fill_soon(self) -> None:
        try:
            await asyncio.sleep(self._gap_wait)
            if not self._held:
                return
            waited_for = max(self._held)
            try:
                stored = await self._fetch_stored(self.released_seq, min(self._held) - 1)
            except Exception:
                # The sockets fill (or report) the gap themselves.
                logger.warning("room order: reading the gap from the log failed", exc_info=True)
                stored = []
            for event in stored:
                if event["seq"] == self.released_seq + 1:
                    self._release(event)
            self._release_consecutive()
            # What the log did not have yet goes out with a gap that each socket fills; held
            # messages that arrived while reading wait their own turn.
            for seq in sorted(seq for seq in self._held if seq <= waited_for):
                self._release(self._held.pop(seq))
            self._release_consecutive()
        finally:
            self._filler = None
        if self._held:
            self._filler = asyncio.create_task(self._fill_soon())
