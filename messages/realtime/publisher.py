"""Room events from this process: to its own sessions at once, to other processes in batches.

The process's sessions of the room get each event from memory, through the hub. The other
processes get it through the channel layer, and only when one of them serves the room
(messages.realtime.peers): a `group_send` is a Redis round trip, and channels-redis' pub/sub
layer waits for each one's reply before the next publish on its connection. So a room's events
go out one batch at a time: while a batch of the room is on its way, whatever the room emits
next waits, and goes in the next batch, in order.

Nothing here is needed for correctness: a batch the layer refuses is logged and dropped, and
the sessions fill the missing messages from the chat log.
"""

from __future__ import annotations

import asyncio
import logging

from channels.layers import get_channel_layer

from chatproject.per_loop import PerLoop
from messages.realtime.events import Event, room_group, room_message

logger = logging.getLogger(__name__)

# Events waiting for a room whose publishes do not get through (Redis hanging): beyond this,
# the oldest are dropped with a warning, and the log heals what sessions missed.
MAX_WAITING_PER_ROOM = 10_000
# At most this many events in one channel-layer message (its size stays far below Redis' limits).
MAX_BATCH = 200


class RoomPublisher:
    def __init__(self) -> None:
        self.waiting: dict[int, list[Event]] = {}  # room_id -> events not yet sent, in order
        self.sending: set[int] = set()  # rooms with a batch on its way
        self.tasks: set[asyncio.Task] = set()

    def publish(self, room_id: int, event: Event) -> None:
        """Tell the room: this process's sessions now, the other processes that serve it soon."""
        from messages.realtime.hub import get_hub

        hub = get_hub()
        if hub.serves(room_id):
            hub.hand_out_here(room_id, event)
            if not hub.peers.any(room_id):
                return
        self.to_layer(room_id, event, origin=hub.channel)

    def to_layer(self, room_id: int, event: Event, *, origin: str | None) -> None:
        """Send the event through the channel layer to every process that serves the room."""
        waiting = self.waiting.setdefault(room_id, [])
        waiting.append(event)
        if len(waiting) > MAX_WAITING_PER_ROOM:
            del waiting[: len(waiting) - MAX_WAITING_PER_ROOM]
            logger.warning("room %s: channel layer not keeping up; oldest waiting events dropped", room_id)
        if room_id not in self.sending:
            self.sending.add(room_id)
            task = asyncio.get_running_loop().create_task(self._send_room(room_id, origin))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _send_room(self, room_id: int, origin: str | None) -> None:
        layer, group = get_channel_layer(), room_group(room_id)
        try:
            while events := self.waiting.pop(room_id, None):
                if len(events) > MAX_BATCH:
                    self.waiting[room_id] = events[MAX_BATCH:]
                    events = events[:MAX_BATCH]
                try:
                    await layer.group_send(group, room_message(room_id, events, origin=origin))
                except Exception:
                    logger.exception("room %s: %d events not broadcast; gaps fill from the log", room_id, len(events))
        finally:
            self.sending.discard(room_id)


_publishers = PerLoop(RoomPublisher)


def get_publisher() -> RoomPublisher:
    """The publisher of the running event loop (one per server process)."""
    return _publishers.get()
