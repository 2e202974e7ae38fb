"""The Channels tutorial's chat consumer, speaking just enough of the app's protocol for the
same load generator to measure it.

On connect: join the room's group and say `hello`. On `message.send`: `group_send` it to the
room as `message.new` (every socket, the sender's included), then a trivial `message.ack`.
No authentication, no storage, no rate limit, no presence, no ordering or gap filling; `seq`
is a counter of this process, so it orders nothing across processes.
"""

import itertools
import json

from channels.generic.websocket import AsyncWebsocketConsumer

_seq = itertools.count(1)


class BaselineChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room_group_name = f"chat_{self.scope['url_route']['kwargs']['slug']}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "hello", "last_seq": 0}))

    async def disconnect(self, close_code):
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        data = json.loads(text_data)
        if data.get("type") != "message.send":
            return
        message = {"seq": next(_seq), "client_id": data["client_id"], "body": data["body"]}
        await self.channel_layer.group_send(self.room_group_name, {"type": "chat.message", "message": message})
        ack = {"type": "message.ack", "client_id": data["client_id"], "message": message}
        await self.send(text_data=json.dumps(ack))

    async def chat_message(self, event):
        await self.send(text_data=json.dumps({"type": "message.new", "message": event["message"]}))
