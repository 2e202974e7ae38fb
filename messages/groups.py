"""Channel-layer group names (ASCII, < 100 characters), and the hot path's group_send."""

from __future__ import annotations

from channels.layers import BaseChannelLayer, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer

from accounts.signals import user_group
from messages.redis_batch import batched

__all__ = ["batched_group_send", "room_group", "user_group", "uses_lean_pubsub"]


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


async def batched_group_send(group: str, event: dict) -> None:
    """`group_send`, with the PUBLISH in this turn's Redis pipeline (messages.redis_batch) when
    the layer is channels-redis' pubsub layer on one Redis (REDIS_URL): the channel name and
    encoding are the layer's own, so its subscribers receive the event as from group_send.
    The layer's own group_send takes a lock and a round trip of its own for every publish."""
    layer = get_channel_layer()
    if not uses_lean_pubsub(layer):
        return await layer.group_send(group, event)
    await batched("PUBLISH", layer._get_layer()._get_group_channel_name(group), layer.serialize(event))


def uses_lean_pubsub(layer: BaseChannelLayer) -> bool:
    """The stock pub/sub layer on one Redis (REDIS_URL), whose channel names and encoding the
    lean paths (this PUBLISH, messages.room_feed) reproduce. A sharded layer knows which Redis
    has a group; a subclass may do more in group_send (the tests' lossy layer drops and delays
    on purpose), which they would skip."""
    return type(layer) is RedisPubSubChannelLayer and len(layer._get_layer()._shards) == 1
