"""What both endpoints' consumers share: a socket with room sessions and a login behind it.

- Events of the user and of the login come on the consumer's own channel (Channels'
  `channel_name`), in groups `user.<id>` and the login's (accounts.signals): `access.changed`
  goes to the sessions of that room, `session.ended` ends the socket (`end_login`).
- A socket that arrives while Redis is down is refused with `unavailable` and 4503, not an
  HTTP 500: with channels-redis' pub/sub layer the consumer's own channel is a Redis
  subscription, made by Channels before any handler of ours runs.
- However the socket ends (even by a crash), its sessions stop.
- Channels closes stale database connections before every event, a thread hop each time;
  these consumers reach the ORM only through messages.async_orm, which opens and closes
  connections in its own worker threads, so they skip that.
- Each source of events (the client, the consumer's channel) is read by a task of its own
  (messages.realtime.consumer_loop), not by a new task per event.
"""

from __future__ import annotations

import logging

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from chatproject.redis_clients import REDIS_ERRORS
from messages.realtime import protocol
from messages.realtime.consumer_loop import InTurnDispatchMixin
from messages.realtime.events import user_group
from messages.realtime.session import RoomSession

logger = logging.getLogger(__name__)


class SessionConsumer(InTurnDispatchMixin, AsyncWebsocketConsumer):
    # The text sent before closing a socket that came while the channel layer was down.
    outage_frame: str | None = protocol.encode(
        protocol.error_frame(protocol.UNAVAILABLE, "The room cannot be served right now; reconnect later.")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sessions: list[RoomSession] = []
        self.groups_joined: list[str] = []

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        except REDIS_ERRORS:
            if getattr(self, "channel_name", None) is not None:
                raise  # the channel was made: this failure is not ours to describe
            logger.exception("cannot open a socket: the channel layer is unavailable")
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            if self.outage_frame is not None:
                await send({"type": "websocket.send", "text": self.outage_frame})
            await send({"type": "websocket.close", "code": protocol.CLOSE_TRY_AGAIN_LATER})
        finally:
            for session in self.sessions:
                session.stop()

    async def dispatch(self, message: dict) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- the user's and the login's groups ------------------------------------------------

    async def join_login_groups(self, *, user_id: int, login: str | None) -> None:
        """Bans and deactivation come to the user's group; logging out or revoking the token
        that opened this socket, to the login's. Raises what the channel layer raises."""
        for group in (user_group(user_id), login):
            if group is not None and group not in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.append(group)

    async def leave_everything(self) -> None:
        for session in self.sessions:
            await session.close()
        for group in self.groups_joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except REDIS_ERRORS:
                logger.warning("could not leave group %s; it expires by itself", group)
        self.groups_joined = []

    async def access_changed(self, event: dict) -> None:
        for session in [session for session in self.sessions if session.room.pk == event["room_id"]]:
            await session.check_access()

    async def session_ended(self, event: dict) -> None:
        await self.end_login()

    async def end_login(self) -> None:
        """The login this socket was opened with ended: close the socket."""
        raise NotImplementedError
