"""How the room hub hears a room's events: one subscription per room per process.

Two ways, the same events:

- `RedisRoomFeed`, with channels-redis' stock pub/sub layer on one Redis (the default
  deployment): the hub subscribes to the room's group channel itself, on a lean connection
  (messages.redis_subscriber), and decodes with the layer's own serializer. Room events
  are published by messages.groups with the layer's channel names and encoding, so nothing
  else changes.
- `LayerRoomFeed`, for any other layer (`core`, sharded Redis, the in-memory layer without
  Redis, the tests' lossy layer): a group membership on a channel of the hub's own,
  received with `layer.receive`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from channels.layers import BaseChannelLayer, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

from messages.groups import room_group, uses_lean_pubsub
from messages.redis_client import REDIS_ERRORS
from messages.redis_subscriber import RedisSubscriber

logger = logging.getLogger(__name__)

HandOut = Callable[[dict], None]

# channels-redis forgets a group membership after its group_expiry (a day by default);
# the layer feed renews its rooms' memberships well before that.
RENEW_SECONDS = 3600


class LayerRoomFeed:
    def __init__(self, layer: BaseChannelLayer, hand_out: HandOut) -> None:
        self.layer = layer
        self.hand_out = hand_out
        self.channel: str | None = None
        self.rooms: set[int] = set()
        self._tasks: list[asyncio.Task] = []

    async def subscribe(self, room_id: int) -> None:
        if self.channel is None:
            # The default prefix on purpose: channels-redis polls one Redis list per process
            # and prefix, and only for the prefix its current waiter asked for; a channel
            # with a prefix of its own would wait until every consumer stopped receiving.
            self.channel = await self.layer.new_channel()
            self._tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._renew())]
        await self.layer.group_add(room_group(room_id), self.channel)
        self.rooms.add(room_id)

    async def unsubscribe(self, room_id: int) -> None:
        self.rooms.discard(room_id)
        await self.layer.group_discard(room_group(room_id), self.channel)

    async def _receive(self) -> None:
        while True:
            try:
                event = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis down: sockets fill any gap from the log once it is back
                logger.exception("hub receive failed; retrying")
                await asyncio.sleep(1)
                continue
            self.hand_out(event)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            for room_id in tuple(self.rooms):
                try:
                    await self.layer.group_add(room_group(room_id), self.channel)
                except REDIS_ERRORS:
                    logger.exception("could not renew the hub's membership of room %s", room_id)


class RedisRoomFeed:
    def __init__(self, layer: RedisPubSubChannelLayer, hand_out: HandOut) -> None:
        self.layer = layer
        self.hand_out = hand_out
        self.subscriber = RedisSubscriber(settings.REDIS_URL, self._received)

    def _channel(self, room_id: int) -> str:
        return self.layer._get_layer()._get_group_channel_name(room_group(room_id))

    async def subscribe(self, room_id: int) -> None:
        await self.subscriber.subscribe(self._channel(room_id))

    async def unsubscribe(self, room_id: int) -> None:
        await self.subscriber.unsubscribe(self._channel(room_id))

    def _received(self, channel: bytes, payload: bytes) -> None:
        try:
            event = self.layer.deserialize(payload)
        except Exception:  # not ours to crash on: the sockets fill a gap from the log
            logger.exception("undecodable message on %r", channel)
            return
        self.hand_out(event)


def room_feed(hand_out: HandOut) -> LayerRoomFeed | RedisRoomFeed:
    layer = get_channel_layer()
    if uses_lean_pubsub(layer):
        return RedisRoomFeed(layer, hand_out)
    return LayerRoomFeed(layer, hand_out)
