"""A lean Redis pub/sub subscriber that keeps its subscriptions across lost connections.

The room hub receives every room message a process hears. Through channels-redis' pub/sub
layer each one costs redis-py's `PubSub.get_message` (a reply parser that awaits a stream
reader for every line), a queue per channel and a `receive()`: about a tenth of a server's
CPU at capacity, paid again by every process. Here the bytes Redis pushes are parsed where
they arrive (messages.redis_pipe) and each message goes straight to a callback.

Pub/sub keeps nothing for a subscriber that is away: messages published while the connection
is down are not seen. The hub's sockets fill such gaps from the chat log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from messages.redis_client import REDIS_ERRORS
from messages.redis_pipe import CONNECT_TIMEOUT_SECONDS, PipeProtocol, open_pipe

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 5.0

OnMessage = Callable[[bytes, bytes], None]


class SubscriberProtocol(PipeProtocol):
    """A connection in subscribed mode: each `message` push goes to `on_message(channel,
    payload)`; every other reply (AUTH, SELECT, each channel's SUBSCRIBE or UNSUBSCRIBE
    confirmation) answers the oldest command waiting, as on a plain pipe."""

    def __init__(self, on_message: OnMessage) -> None:
        super().__init__()
        self.on_message = on_message
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def call(self, *commands: Sequence[Any]) -> list[Any]:
        """Send `commands` and wait for their replies (SUBSCRIBE and UNSUBSCRIBE: one channel
        each, one confirmation each)."""
        loop = asyncio.get_running_loop()
        waiters = [loop.create_future() for _ in commands]
        self.send(commands, waiters)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                return await asyncio.gather(*waiters)
        except TimeoutError as error:
            raise RedisConnectionError("Redis did not answer the subscriber in time") from error

    decode_replies = False  # payloads are the layer's binary encoding

    def reply_received(self, reply: Any) -> None:
        if type(reply) is list and len(reply) == 3 and reply[0] == b"message":
            self.on_message(reply[1], reply[2])
        else:
            super().reply_received(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if not self.closed.done():
            self.closed.set_result(None)


class RedisSubscriber:
    """Channels subscribed on one connection of its own. When the connection is lost it
    reconnects (backing off up to RETRY_MAX_SECONDS) and subscribes to every channel again.
    `on_message` runs on the event loop, for each message, in the order Redis sent them; it
    must not raise."""

    def __init__(self, url: str, on_message: OnMessage) -> None:
        self.url = url
        self.on_message = on_message
        self.channels: set[str] = set()
        self._pipe: SubscriberProtocol | None = None
        self._connected = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None

    async def subscribe(self, channel: str) -> None:
        """Returns once Redis has confirmed the subscription: from then on every message
        published to `channel` reaches `on_message`. Raises redis' ConnectionError when Redis
        cannot be reached within CONNECT_TIMEOUT_SECONDS (the channel stays wanted: it is
        subscribed when the connection comes back)."""
        self.channels.add(channel)
        pipe = await self._connection()
        await pipe.call(["SUBSCRIBE", channel])

    async def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)
        pipe = self._pipe
        if pipe is not None and pipe.lost is None:
            await pipe.call(["UNSUBSCRIBE", channel])

    async def _connection(self) -> SubscriberProtocol:
        if self._keeper is None:
            self._keeper = asyncio.create_task(self._keep_connected())
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                await self._connected.wait()
        except TimeoutError as error:
            raise RedisConnectionError("cannot reach Redis for the room subscriptions") from error
        assert self._pipe is not None
        return self._pipe

    async def _keep_connected(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                pipe = await open_pipe(self.url, lambda: SubscriberProtocol(self.on_message))
                try:
                    if self.channels:
                        await pipe.call(*(["SUBSCRIBE", channel] for channel in tuple(self.channels)))
                except BaseException:
                    pipe.close()
                    raise
            except REDIS_ERRORS as error:
                logger.warning("room subscriptions: cannot connect to Redis (%s); retrying in %.1f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            delay = RETRY_FIRST_SECONDS
            self._pipe = pipe
            self._connected.set()
            await pipe.closed
            self._connected.clear()
            logger.warning("room subscriptions: the connection to Redis was lost; reconnecting")

    def close(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            self._keeper = None
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        self._connected.clear()
