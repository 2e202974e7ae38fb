"""A room's presence changes handed to its sockets at most once per interval: the latest list.

Each `presence` frame carries the whole list of who is online, so a later one replaces every
earlier one and the frames between them can be skipped. When thousands of sockets connect at
once (a deploy, a network blip), every join changes its room's list: 100 people joining a room
meant 100 lists of up to 100 names to each of up to 100 sockets, most of the work of the
storm, on the same event loop as the room's messages. The pacer hands the first change out at
once and then at most one per `interval`, the latest it has, so a quiet room sees changes
immediately and a stormy one a few times a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

HandOut = Callable[[dict], None]


class PresencePacer:
    def __init__(self, *, hand_out: HandOut, interval: float) -> None:
        self._hand_out = hand_out
        self._interval = interval
        self._handed_out_at: dict[int, float] = {}  # room_id -> loop time of its last hand-out
        self._waiting: dict[int, dict] = {}  # room_id -> the latest event, due at its next turn

    def push(self, event: dict) -> None:
        """A `presence` event (with its `room_id`) from the channel layer."""
        room_id = event["room_id"]
        if room_id in self._waiting:
            self._waiting[room_id] = event  # replaces the one waiting; goes out at its turn
            return
        loop = asyncio.get_running_loop()
        wait = self._handed_out_at.get(room_id, float("-inf")) + self._interval - loop.time()
        if wait <= 0:
            self._send(room_id, event)
            return
        self._waiting[room_id] = event
        loop.call_later(wait, self._send_waiting, room_id)

    def forget(self, room_id: int) -> None:
        """The process has no socket left in the room."""
        self._handed_out_at.pop(room_id, None)
        self._waiting.pop(room_id, None)

    def _send_waiting(self, room_id: int) -> None:
        event = self._waiting.pop(room_id, None)
        if event is not None:
            self._send(room_id, event)

    def _send(self, room_id: int, event: dict) -> None:
        self._handed_out_at[room_id] = asyncio.get_running_loop().time()
        self._hand_out(event)
