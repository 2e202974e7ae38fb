"""One channel-layer subscription per room per process, fanned out to the process's sockets.

With one group membership per socket, the channel layer carries every room message once per
member socket (a Redis round trip, a decode and a dispatch each): most of a delivery's cost.
The hub subscribes to each room once per process (messages.room_feed) and hands each event to
the local sockets of that room, room messages in seq order (messages.room_order). Sockets
keep their own in-order, gap-filling delivery (messages.delivery), so a message the hub
misses is still filled from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable

from chatproject.shared_frames import SharedFrame
from messages import protocol
from messages.chatlog import get_chatlog
from messages.delivery import GAP_WAIT_SECONDS, PAGE_SIZE
from messages.presence_pacer import PresencePacer
from messages.redis_client import REDIS_ERRORS
from messages.room_feed import room_feed
from messages.room_order import RoomOrder

logger = logging.getLogger(__name__)

# A dropped broadcast is filled from the log when the room's next message arrives; when none
# follows (the last message of a conversation), the hub's tail check finds it in the log.
TAIL_CHECK_SECONDS = 2.0
# A room's sockets are told who is online at most this often (messages.presence_pacer).
PRESENCE_INTERVAL_SECONDS = 0.5


class RoomListener:
    """A socket's inbox for hub events: handled one at a time, in arrival order.

    Events are kept from the moment the socket joins; handling starts with `start()`, once the
    socket has said hello, so nothing that arrives in between is lost or sent out of turn.
    `deliver_now`, when given, may take an event synchronously, on the hub's own turn, while
    nothing is waiting in the inbox: the fast path of a message that simply comes next.
    """

    def __init__(
        self, handle: Callable[[dict], Awaitable[None]], *, deliver_now: Callable[[dict], bool] | None = None
    ) -> None:
        self._handle = handle
        self._deliver_now = deliver_now
        self._queue: asyncio.Queue[dict] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._waiting = False  # started, and waiting for an event: nothing queued or in hand

    def put(self, event: dict) -> None:
        if self._waiting and self._deliver_now is not None and self._queue.empty() and self._deliver_now(event):
            return
        self._queue.put_nowait(event)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self._waiting = True
            event = await self._queue.get()
            self._waiting = False
            try:
                await self._handle(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("socket failed to handle %s", event.get("type"))

    def close(self) -> None:
        self._waiting = False
        if self._task is not None:
            self._task.cancel()


class RoomHub:
    def __init__(self) -> None:
        self.feed = room_feed(self._hand_out)
        self.rooms: dict[int, set[RoomListener]] = {}
        self.orders: dict[int, RoomOrder] = {}  # for each room in `rooms`
        self.presence = PresencePacer(hand_out=self._to_listeners, interval=PRESENCE_INTERVAL_SECONDS)
        self._lock = asyncio.Lock()
        self._tail_checker: asyncio.Task | None = None

    async def join(self, room_id: int, listener: RoomListener, *, room_slug: str) -> None:
        async with self._lock:
            if self._tail_checker is None:
                self._tail_checker = asyncio.create_task(self._check_tails())
            if room_id not in self.rooms:
                await self.feed.subscribe(room_id)
                self.rooms[room_id] = set()
                self.orders[room_id] = RoomOrder(
                    hand_out=self._to_listeners,
                    fetch_stored=lambda after, through: self._stored_events(room_id, room_slug, after, through),
                    gap_wait=GAP_WAIT_SECONDS,
                )
            self.rooms[room_id].add(listener)

    async def leave(self, room_id: int, listener: RoomListener) -> None:
        listener.close()
        async with self._lock:
            listeners = self.rooms.get(room_id)
            if listeners is None:
                return
            listeners.discard(listener)
            if not listeners:
                del self.rooms[room_id]
                self.orders.pop(room_id).close()
                self.presence.forget(room_id)
                with contextlib.suppress(*REDIS_ERRORS):
                    await self.feed.unsubscribe(room_id)

    def _hand_out(self, event: dict) -> None:
        kind, room_id = event.get("type"), event.get("room_id")
        if kind == "chat.message" and (order := self.orders.get(room_id)) is not None:
            order.push(event)
        elif kind == "chat.presence" and room_id in self.rooms:
            self.presence.push(event)
        else:
            self._to_listeners(event)

    def _to_listeners(self, event: dict) -> None:
        # Encoded and framed once, for every socket here.
        if event.get("type") == "chat.message":
            event["shared"] = SharedFrame(event["text"])
        elif event.get("type") == "chat.presence":
            event["shared"] = SharedFrame(protocol.encode(protocol.presence_frame(event["online"])))
        for listener in tuple(self.rooms.get(event.get("room_id"), ())):
            listener.put(event)

    async def _stored_events(self, room_id: int, room_slug: str, after_seq: int, through_seq: int) -> list[dict]:
        """The room's stored messages after_seq < seq <= through_seq (up to a page) as live events."""
        messages = await get_chatlog().page_after(
            room_id=room_id, after_seq=after_seq, limit=min(PAGE_SIZE, through_seq - after_seq)
        )
        return [
            {
                "type": "chat.message",
                "room_id": room_id,
                "seq": message.seq,
                "text": protocol.encode(
                    protocol.new_message_frame(protocol.message_payload(message, room_slug=room_slug))
                ),
            }
            for message in messages
            if message.seq <= through_seq
        ]

    async def _check_tails(self) -> None:
        """Every TAIL_CHECK_SECONDS, compare each room's stored last seq with the last one
        broadcast here; one missing at two checks in a row (not merely in flight) is handed
        to the room's sockets as a catch-up, which each fills from the log."""
        suspects: dict[int, int] = {}
        while True:
            await asyncio.sleep(TAIL_CHECK_SECONDS)
            try:
                suspects = await self._tail_suspects(suspects)
            except Exception:  # the log is down: sockets notice on their next read
                logger.exception("tail check failed; retrying")

    async def _tail_suspects(self, previous: dict[int, int]) -> dict[int, int]:
        chatlog = get_chatlog()
        suspects = {}
        for room_id, order in tuple(self.orders.items()):
            stored = await chatlog.last_seq(room_id=room_id)
            if stored <= order.highest_seq:
                continue
            if previous.get(room_id, 0) > order.highest_seq:
                self._to_listeners({"type": "chat.catch_up", "room_id": room_id, "seq": previous[room_id]})
                order.caught_up(previous[room_id])
            suspects[room_id] = stored
        return suspects


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RoomHub] = weakref.WeakKeyDictionary()


def get_hub() -> RoomHub:
    """The hub of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = RoomHub()
    return hub
