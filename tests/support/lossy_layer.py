"""Channels-redis layers that lose, reorder or hold room messages on purpose.

The lossy layer proves the claim that the channel layer is only a hint: consumers must fill
every gap from the chat log. Selected by the test settings when CHAT_TEST_LOSSY_LAYER=1.
The held layer keeps each room message for CHAT_TEST_BROADCAST_DELAY seconds before it
publishes it: what the sender waits for, and what it does not.
"""

from __future__ import annotations

import asyncio
import os

from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

DROP_EVERY = 3  # seq 2, 5, 8, ... never reach the other sockets through the layer
DELAY_EVERY = 5  # seq 5, 10, ... arrive late, after later messages (when not dropped)
DELAY_SECONDS = 0.3


def fate(seq: int) -> str:
    if seq % DROP_EVERY == 2:
        return "drop"
    if seq % DELAY_EVERY == 0:
        return "delay"
    return "send"


def _messages(message) -> list[dict]:
    """The `message.posted` events of a room's channel-layer message (messages.realtime.events)."""
    if message.get("type") != "room.events":
        return []
    return [event for event in message["events"] if event["type"] == "message.posted"]


class LossyGroupSendMixin:
    async def group_send(self, group, message):
        if not _messages(message):
            return await self.real_group_send(group, message)
        kept, delayed = [], []
        for event in message["events"]:
            match fate(event["seq"]) if event["type"] == "message.posted" else "send":
                case "drop":
                    pass
                case "delay":
                    delayed.append(event)
                case _:
                    kept.append(event)
        if delayed:
            late = {**message, "events": delayed}
            asyncio.get_running_loop().call_later(
                DELAY_SECONDS, lambda: asyncio.ensure_future(self.real_group_send(group, late))
            )
        if kept:
            await self.real_group_send(group, {**message, "events": kept})


class LossyRedisChannelLayer(LossyGroupSendMixin, RedisChannelLayer):
    async def real_group_send(self, group, message):
        return await RedisChannelLayer.group_send(self, group, message)


def _pubsub_group_send(layer, group, message):
    # RedisPubSubChannelLayer has no group_send of its own: __getattr__ hands out the one of
    # the running loop's layer, which a subclass that defines group_send shadows.
    return RedisPubSubChannelLayer.__getattr__(layer, "group_send")(group, message)


class LossyRedisPubSubChannelLayer(LossyGroupSendMixin, RedisPubSubChannelLayer):
    async def real_group_send(self, group, message):
        return await _pubsub_group_send(self, group, message)


class HeldRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    async def group_send(self, group, message):
        if _messages(message):
            await asyncio.sleep(float(os.environ["CHAT_TEST_BROADCAST_DELAY"]))
        return await _pubsub_group_send(self, group, message)
