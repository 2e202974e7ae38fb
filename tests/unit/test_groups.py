"""The room PUBLISH shortcut (messages.groups.batched_group_send) is taken only for the stock
pub/sub layer: a subclass's own group_send (the tests' lossy layer) must still run."""

from channels_redis.pubsub import RedisPubSubChannelLayer

from messages import groups


class RecordingLayer(RedisPubSubChannelLayer):
    def __init__(self) -> None:
        super().__init__(hosts=["redis://127.0.0.1:1/0"])  # never connected to
        self.sent: list[tuple[str, dict]] = []

    async def group_send(self, group, message):
        self.sent.append((group, message))


async def test_a_layer_with_its_own_group_send_gets_every_room_event(monkeypatch):
    layer = RecordingLayer()
    monkeypatch.setattr(groups, "get_channel_layer", lambda: layer)
    event = {"type": "chat.message", "seq": 2}
    await groups.batched_group_send(groups.room_group(7), event)
    assert layer.sent == [("room.7", event)]
