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


class LossyGroupSendMixin:
    async def group_send(self, group, message):
        if message.get("type") != "chat.message":
            return await self.real_group_send(group, message)
        match fate(message["seq"]):
            case "drop":
                return None
            case "delay":
                asyncio.get_running_loop().call_later(
                    DELAY_SECONDS, lambda: asyncio.ensure_future(self.real_group_send(group, message))
                )
                return None
            case _:
                return await self.real_group_send(group, message)


class LossyRedisChannelLayer(LossyGroupSendMixin, RedisChannelLayer):
    async def real_group_send(self, group, message):
        return await RedisChannelLayer.group_send(self, group, message)


class LossyRedisPubSubChannelLayer(LossyGroupSendMixin, RedisPubSubChannelLayer):
    async def real_group_send(self, group, message):
        # RedisPubSubChannelLayer has no group_send of its own: it forwards to a per-loop layer.
        return await self._get_layer().group_send(group, message)


class HeldRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    async def group_send(self, group, message):
        if message.get("type") == "chat.message":
            await asyncio.sleep(float(os.environ["CHAT_TEST_BROADCAST_DELAY"]))
        return await self._get_layer().group_send(group, message)
