"""Channel-layer group names (ASCII, < 100 characters), and the hot path's group_send."""

from __future__ import annotations

from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer

from accounts.signals import user_group
from messages.redis_batch import batched

__all__ = ["batched_group_send", "room_group", "user_group"]


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


async def batched_group_send(group: str, event: dict) -> None:
    """`group_send`, with the PUBLISH in this turn's Redis pipeline (messages.redis_batch) when
    the layer is channels-redis' pubsub layer on one Redis (REDIS_URL): the channel name and
    encoding are the layer's own, so its subscribers receive the event as from group_send.
    The layer's own group_send takes a lock and a round trip of its own for every publish."""
    layer = get_channel_layer()
    # Exactly the stock layer: a subclass may do more in group_send (the tests' lossy layer
    # drops and delays on purpose), which this shortcut would skip.
    if type(layer) is not RedisPubSubChannelLayer:
        return await layer.group_send(group, event)
    loop_layer = layer._get_layer()
    if len(loop_layer._shards) != 1:  # sharded: the layer knows which Redis has the group
        return await layer.group_send(group, event)
    await batched("PUBLISH", loop_layer._get_group_channel_name(group), layer.serialize(event))
