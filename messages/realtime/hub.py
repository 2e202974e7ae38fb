"""The room hub: one per process, handing every room event to the process's sessions of the room.

Events come from two places. Those of this process (messages.realtime.publisher) are handed
out at once, from memory. Those of other processes come through the channel layer: the hub
has one channel of its own (`layer.new_channel()`), adds it to a room's group when the
process's first session of the room joins (`group_add`), leaves the group with the last one,
and receives with `layer.receive`; so each room event crosses Redis once per process that
serves the room (and not at all for a room only one process serves: messages.realtime.peers).
Messages are handed out in seq order (messages.realtime.room_order). Sessions keep their own
in-order, gap-filling delivery (messages.realtime.delivery), so a message the hub misses is
still filled from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from channels.layers import get_channel_layer

from chatproject.per_loop import PerLoop
from chatproject.redis_clients import REDIS_ERRORS
from messages.chatlog import get_chatlog
from messages.realtime import events, protocol
from messages.realtime.delivery import GAP_WAIT_SECONDS, PAGE_SIZE
from messages.realtime.events import Event
from messages.realtime.peers import ANNOUNCE_SECONDS, JOIN_CHECK_SECONDS, RoomPeers
from messages.realtime.presence_pacer import PresencePacer
from messages.realtime.publisher import get_publisher
from messages.realtime.room_order import RoomOrder

logger = logging.getLogger(__name__)

# A dropped broadcast is filled from the log when the room's next message arrives; when none
# follows (the last message of a conversation), the hub's tail check finds it in the log.
TAIL_CHECK_SECONDS = 2.0
# A room's sessions are told who is online at most this often (messages.realtime.presence_pacer).
PRESENCE_INTERVAL_SECONDS = 0.5
# channels-redis' core layer forgets a group membership after its group_expiry (a day by
# default): the hub renews its rooms' memberships well before that.
RENEW_SECONDS = 3600


class RoomListener:
    """A session's inbox for hub events: handled one batch at a time, in arrival order.

    Events are kept from the moment the session joins; handling starts with `start()`, once
    the session has said hello, so nothing that arrives in between is lost or sent out of
    turn. `deliver_now`, when given, may take a batch synchronously, on the hub's own turn,
    while nothing is waiting in the inbox: the fast path of messages that simply come next.
    """

    def __init__(
        self,
        handle: Callable[[Sequence[Event]], Awaitable[None]],
        *,
        deliver_now: Callable[[Sequence[Event]], bool] | None = None,
    ) -> None:
        self._handle = handle
        self._deliver_now = deliver_now
        self._queue: asyncio.Queue[Sequence[Event]] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._waiting = False  # started, and waiting for events: nothing queued or in hand

    def put(self, batch: Sequence[Event]) -> None:
        if self._waiting and self._deliver_now is not None and self._queue.empty() and self._deliver_now(batch):
            return
        self._queue.put_nowait(batch)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self._waiting = True
            batch = await self._queue.get()
            self._waiting = False
            try:
                await self._handle(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("session failed to handle %s", [event.get("type") for event in batch])

    def close(self) -> None:
        self._waiting = False
        if self._task is not None:
            self._task.cancel()


class RoomHub:
    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.rooms: dict[int, set[RoomListener]] = {}
        self.orders: dict[int, RoomOrder] = {}  # for each room in `rooms`
        self.presence = PresencePacer(hand_out=self._presence_out, interval=PRESENCE_INTERVAL_SECONDS)
        self.peers = RoomPeers()
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self._batch: list[Event] | None = None  # what a room's message from the layer hands out

    async def join(self, room_id: int, listener: RoomListener, *, room_slug: str) -> None:
        """Hand `listener` the room's events from now on. Raises what the channel layer raises
        when the room's group cannot be joined (Redis down)."""
        async with self._lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                loop = asyncio.get_running_loop()
                tasks = (self._receive, self._check_tails, self._announce, self._renew)
                self._tasks = [loop.create_task(task()) for task in tasks]
            if room_id not in self.rooms:
                await self.layer.group_add(events.room_group(room_id), self.channel)
                self.rooms[room_id] = set()
                self.orders[room_id] = RoomOrder(
                    hand_out=lambda event, room_id=room_id: self._released(room_id, event),
                    fetch_stored=lambda after, through: self._stored_events(room_id, room_slug, after, through),
                    gap_wait=GAP_WAIT_SECONDS,
                )
                self.peers.started(room_id)
                self._say(room_id, events.hub_here(hub=self.channel, answer=True))
                self._tasks.append(asyncio.get_running_loop().create_task(self._check_after_join(room_id)))
            self.rooms[room_id].add(listener)

    def serves(self, room_id: int) -> bool:
        """Whether this process has a session of the room."""
        return room_id in self.rooms

    def hand_out_here(self, room_id: int, event: Event) -> None:
        """An event this process emitted, to its own sessions of the room."""
        self._hand_out(room_id, [dict(event)])  # a copy: the hub adds to it, the layer sends the original

    def _say(self, room_id: int, event: Event) -> None:
        get_publisher().to_layer(room_id, event, origin=self.channel)

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
                self.peers.forget(room_id)
                self._say(room_id, events.hub_gone(hub=self.channel))
                with contextlib.suppress(*REDIS_ERRORS):
                    await self.layer.group_discard(events.room_group(room_id), self.channel)

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis down: sessions fill any gap from the log once it is back
                logger.exception("hub receive failed; retrying")
                await asyncio.sleep(1)
                continue
            if (
                message.get("type") == events.ROOM_EVENTS
                and message.get("room_id") in self.rooms
                and message.get("origin") != self.channel  # this process's own, handed out already
            ):
                self._hand_out(message["room_id"], message["events"])

    def _hand_out(self, room_id: int, batch: Sequence[Event]) -> None:
        """One channel-layer message's events of a room, to the room's sessions at once."""
        self._batch = []
        try:
            for event in batch:
                kind = event.get("type")
                if kind == events.MESSAGE_POSTED and (order := self.orders.get(room_id)) is not None:
                    order.push(event)  # released in seq order, into self._batch
                elif kind == events.PRESENCE:
                    self.presence.push({**event, "room_id": room_id})
                elif kind in (events.HUB_HERE, events.HUB_GONE):
                    self._peer_event(room_id, event)
                else:
                    self._batch.append(event)
        finally:
            out, self._batch = self._batch, None
        self._to_listeners(room_id, out)

    def _peer_event(self, room_id: int, event: Event) -> None:
        hub = event["hub"]
        if hub == self.channel:
            return
        if event["type"] == events.HUB_GONE:
            return self.peers.gone(room_id, hub)
        self.peers.heard(room_id, hub)
        if event["answer"]:
            answer = events.room_message(
                room_id, [events.hub_here(hub=self.channel, answer=False)], origin=self.channel
            )
            task = asyncio.get_running_loop().create_task(self.layer.send(hub, answer))
            task.add_done_callback(_log_failure)

    def _released(self, room_id: int, event: Event) -> None:
        # From the room's RoomOrder: during a hand-out, in its batch; later (a gap it waited
        # for, its tail check), on its own.
        if self._batch is not None:
            self._batch.append(event)
        else:
            self._to_listeners(room_id, [event])

    def _presence_out(self, event: Event) -> None:
        room_id = event.pop("room_id")
        self._to_listeners(room_id, [event])

    def _to_listeners(self, room_id: int, batch: list[Event]) -> None:
        if not batch:
            return
        for event in batch:
            if event["type"] == events.MESSAGE_POSTED and "frame" not in event:
                # Framed once, for every session here (chatproject.shared_frames).
                event["frame"] = protocol.ServerFrame("message.new", event["text"])
        for listener in tuple(self.rooms.get(room_id, ())):
            listener.put(batch)

    async def _stored_events(self, room_id: int, room_slug: str, after_seq: int, through_seq: int) -> list[Event]:
        """The room's stored messages after_seq < seq <= through_seq (up to a page) as events."""
        messages = await get_chatlog().page_after(
            room_id=room_id, after_seq=after_seq, limit=min(PAGE_SIZE, through_seq - after_seq)
        )
        return [
            events.message_posted(
                seq=message.seq,
                text=protocol.encode(
                    protocol.new_message_frame(protocol.message_payload(message, room_slug=room_slug))
                ),
            )
            for message in messages
            if message.seq <= through_seq
        ]

    async def _check_tails(self) -> None:
        """Every TAIL_CHECK_SECONDS, compare each room's stored last seq with the last one
        broadcast here; one missing at two checks in a row (not merely in flight) is handed
        to the room's sessions as a catch-up, which each fills from the log."""
        suspects: dict[int, int] = {}
        while True:
            await asyncio.sleep(TAIL_CHECK_SECONDS)
            try:
                suspects = await self._tail_suspects(suspects)
            except Exception:  # the log is down: sessions notice on their next read
                logger.exception("tail check failed; retrying")

    async def _tail_suspects(self, previous: dict[int, int]) -> dict[int, int]:
        chatlog = get_chatlog()
        suspects = {}
        for room_id, order in tuple(self.orders.items()):
            stored = await chatlog.last_seq(room_id=room_id)
            if stored <= order.highest_seq:
                continue
            if previous.get(room_id, 0) > order.highest_seq:
                self._to_listeners(room_id, [{"type": events.CATCH_UP, "seq": previous[room_id]}])
                order.caught_up(previous[room_id])
            suspects[room_id] = stored
        return suspects

    async def _check_after_join(self, room_id: int) -> None:
        """Once the other hubs of the room have heard of this one: a message one of them stored
        meanwhile without publishing it here is read from the log (messages.realtime.peers)."""
        await asyncio.sleep(JOIN_CHECK_SECONDS)
        order = self.orders.get(room_id)
        if order is None:
            return
        try:
            stored = await get_chatlog().last_seq(room_id=room_id)
        except Exception:  # the log is down: the tail check tries again
            logger.warning("room %s: cannot read its last seq after joining", room_id, exc_info=True)
            return
        if stored > order.highest_seq and room_id in self.orders:
            self._to_listeners(room_id, [{"type": events.CATCH_UP, "seq": stored}])
            order.caught_up(stored)

    async def _announce(self) -> None:
        while True:
            await asyncio.sleep(ANNOUNCE_SECONDS)
            for room_id in tuple(self.rooms):
                self._say(room_id, events.hub_here(hub=self.channel, answer=False))

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            for room_id in tuple(self.rooms):
                try:
                    await self.layer.group_add(events.room_group(room_id), self.channel)
                except REDIS_ERRORS:
                    logger.exception("could not renew the hub's membership of room %s", room_id)


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("a hub could not answer another: %s", task.exception())


_hubs = PerLoop(RoomHub)


def get_hub() -> RoomHub:
    """The hub of the running event loop (one per server process)."""
    return _hubs.get()
