"""A socket that arrives while Redis is down gets close code 4503, not an HTTP 500.

With RedisPubSubChannelLayer a consumer's own channel is a Redis subscription, made by
Channels before any handler of ours runs. When Redis is down that raises, and daphne would
answer the WebSocket handshake with a bare 500 that a client cannot tell from a bug.
"""

from __future__ import annotations

import logging

from messages import protocol
from messages.redis_client import REDIS_ERRORS

logger = logging.getLogger(__name__)


class LayerOutageMixin:
    """For AsyncConsumer subclasses: refuse with `unavailable` and 4503 when the consumer's
    own channel cannot be made. `outage_frame` is the text sent before closing, if any."""

    outage_frame: str | None = protocol.encode(
        protocol.error_frame(protocol.UNAVAILABLE, "The room cannot be served right now; reconnect later.")
    )

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        except REDIS_ERRORS:
            if getattr(self, "channel_receive", None) is not None:
                raise  # the channel was made: this failure is not ours to describe
            logger.exception("cannot open a socket: the channel layer is unavailable")
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            if self.outage_frame is not None:
                await send({"type": "websocket.send", "text": self.outage_frame})
            await send({"type": "websocket.close", "code": protocol.CLOSE_TRY_AGAIN_LATER})
