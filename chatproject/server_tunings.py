"""The server tunings: daphne, serving our sockets more cheaply. Each one is opt-in.

`CHAT_SERVER_TUNINGS` names the ones a process uses (docs/configuration.md); with none, the
server is plain daphne and the app sends every frame with `websocket.send`. Each tuning uses
only public interfaces of daphne, autobahn and Twisted, and was written for the exact
versions in `WRITTEN_FOR` (pinned in requirements.txt). With any other version installed the
process logs one warning and runs with none of them. What each saves is measured in
docs/performance-analysis.md ("Server tunings"); a tuning is kept only while it saves at
least 5% of CPU per delivery.

- `shared-frames`: the `chat.send_frames` ASGI extension (chatproject.shared_frames): a room
  message is framed once per process, not once per socket, and written to each socket
  without a `websocket.send` through Channels and daphne.
- `direct-writes`: a socket's frames go straight into its kernel buffer. Twisted buffers
  every write and sends it on a later turn of the loop (two epoll changes and a pass through
  its write machinery per frame per socket). Every byte autobahn writes passes through its
  `sendData`, so the WebSocket protocol here overrides that one method: it writes to the
  socket at once, and as soon as the kernel does not take a write whole, hands the rest and
  everything after it to Twisted for good, so Twisted's ordering holds from then on.
  Plain TCP and UNIX sockets only; TLS (daphne's own) goes through Twisted as before.
- `gc-freeze`: full garbage collections walk only what is new (chatproject.gc_freezer).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence
from functools import partial
from importlib import metadata

from autobahn.websocket.protocol import PreparedMessage
from daphne.cli import CommandLineInterface
from daphne.server import Server, twisted_loop
from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings
from twisted.internet import reactor, tcp

from chatproject.gc_freezer import GcFreezer
from chatproject.loop_watch import LoopWatch
from chatproject.shared_frames import SEND_FRAMES, SharedFrame

logger = logging.getLogger(__name__)

SHARED_FRAMES, DIRECT_WRITES, GC_FREEZE = "shared-frames", "direct-writes", "gc-freeze"
TUNINGS = (SHARED_FRAMES, DIRECT_WRITES, GC_FREEZE)
WRITTEN_FOR = {"daphne": "4.2.3", "autobahn": "26.11.1", "Twisted": "26.10.0"}


def usable_tunings(requested: Sequence[str]) -> frozenset[str]:
    """The tunings of `requested` that this process may use: all of them with the versions they
    were written for, none (and one warning) otherwise."""
    if not requested:
        return frozenset()
    installed = {name: metadata.version(name) for name in WRITTEN_FOR}
    if installed != WRITTEN_FOR:
        logger.warning(
            "server tunings %s are off: written for %s, installed %s; serving as plain daphne",
            ",".join(requested),
            _versions(WRITTEN_FOR),
            _versions(installed),
        )
        return frozenset()
    return frozenset(requested)


def _versions(versions: dict[str, str]) -> str:
    return ", ".join(f"{name} {version}" for name, version in versions.items())


class DirectWriteProtocol(WebSocketProtocol):
    """daphne's WebSocket protocol, writing straight into the socket (`direct-writes`)."""

    # The socket while writes may go straight into it; None once Twisted holds any of them.
    direct_socket = None

    def connectionMade(self) -> None:
        transport = self.transport
        # Only a plain socket with nothing waiting in Twisted's buffer (an HTTP response
        # before the upgrade, on a kept-alive connection) may be written to directly.
        if isinstance(transport, tcp.Connection) and transport not in reactor.getWriters():
            self.direct_socket = transport.getHandle()
        super().connectionMade()

    def sendData(self, data: bytes, sync: bool = False, chopsize: int | None = None) -> None:
        sock = self.direct_socket
        if sock is None or sync or chopsize or self.transport.disconnecting:
            self.direct_socket = None
            return super().sendData(data, sync, chopsize)
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:  # a broken connection: Twisted's own write finds out and reports it
            self.direct_socket = None
            return super().sendData(data)
        if sent < len(data):
            self.direct_socket = None
            super().sendData(data[sent:])
        return None


class ChatServer(Server):
    """daphne's server with the tunings of CHAT_SERVER_TUNINGS and the loop-stall watch."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tunings = usable_tunings(settings.CHAT_SERVER_TUNINGS)
        logger.info("server tunings: %s", ", ".join(sorted(self.tunings)) or "none (plain daphne)")
        # Called by daphne once its factories exist and before it serves anything.
        self.ready_callable = self.before_serving

    def before_serving(self) -> None:
        if DIRECT_WRITES in self.tunings:
            self.ws_factory.protocol = DirectWriteProtocol

    def run(self):
        if GC_FREEZE in self.tunings:
            # Django, the app and their modules are loaded by now and live as long as the
            # process: frozen, full collections stop walking them.
            gc.collect()
            GcFreezer(twisted_loop).start()
        if settings.CHAT_LOOP_STALL_MS:
            LoopWatch(twisted_loop, threshold=settings.CHAT_LOOP_STALL_MS / 1000).start()
        return super().run()

    def create_application(self, protocol, scope):
        if (
            SHARED_FRAMES in self.tunings
            and scope.get("type") == "websocket"
            and (connection := self.connections.get(protocol)) is not None
        ):
            # The connection's own dict, bound once: daphne marks it "disconnected" before it
            # forgets the connection.
            scope.setdefault("extensions", {})[SEND_FRAMES] = partial(send_frames, protocol, connection)
        return super().create_application(protocol, scope)


def send_frames(protocol: WebSocketProtocol, connection: dict, frames: Sequence[SharedFrame]) -> bool:
    """Write `frames` to the socket now, in order (chatproject.shared_frames)."""
    # What daphne's own handle_reply checks, and the WebSocket state that autobahn's
    # sendMessage checks and sendPreparedMessage does not.
    if "disconnected" in connection or protocol.state != protocol.STATE_OPEN:
        return False
    for frame in frames:
        if frame.wire is None:
            # Server frames are not masked; autobahn would compress per socket from the payload
            # kept here, if permessage-deflate were in use (daphne does not negotiate it).
            frame.wire = PreparedMessage(frame.text.encode(), isBinary=False, applyMask=False, doNotCompress=False)
    if protocol.websocket_extensions_in_use:  # compressed per socket
        for frame in frames:
            protocol.sendPreparedMessage(frame.wire)
    elif len(frames) == 1:
        protocol.sendData(frames[0].wire.payloadHybi)
    else:
        protocol.sendData(b"".join(frame.wire.payloadHybi for frame in frames))
    return True


class ChatCommandLineInterface(CommandLineInterface):
    server_class = ChatServer
