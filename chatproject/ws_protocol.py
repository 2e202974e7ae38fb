"""daphne's WebSocket protocol without two things autobahn does for every client frame.

A chat server reads one small frame per message sent, and a py-spy/perf profile of `steady`
at 12,000 deliveries/s put a few percent of the server's CPU into work nobody here uses:

- `dataReceived` formats (and colours) the arguments of a debug message on every read,
  debug logging on or off;
- `onMessageEnd` fires the "message" event of autobahn's observer mixin after handing the
  message to daphne, which makes and chains a Twisted Deferred per message even when
  nothing observes it (daphne never calls `.on("message", ...)`).

Everything else (frame parsing, UTF-8 checks, limits, closing) is autobahn's, unchanged.
"""

from __future__ import annotations

import daphne.server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol


class ChatWebSocketProtocol(WebSocketProtocol):
    def dataReceived(self, data: bytes) -> None:
        self._dataReceived(data)

    def onMessageEnd(self) -> None:
        if self._listeners is not None or self._parent is not None:
            # Someone observes this protocol's events: autobahn's own way, fire included.
            super().onMessageEnd()
            return
        # autobahn's onMessageEnd, less the observer event that nothing listens to.
        if not self.failedByMe:
            payload = b"".join(self.message_data)
            if self.trackedTimings:
                self.trackedTimings.track("onMessage")
            self._onMessage(payload, self.message_is_binary)
        self.message_data = None


class ChatWebSocketFactory(WebSocketFactory):
    protocol = ChatWebSocketProtocol


def install() -> None:
    """Make daphne's server build ChatWebSocketProtocol for every WebSocket connection."""
    daphne.server.WebSocketFactory = ChatWebSocketFactory
