"""daphne with the `chat.send_shared` extension (chatproject.shared_frames)."""

from __future__ import annotations

import gc
import pprint
from functools import partial

import autobahn.util
import autobahn.websocket.protocol as autobahn_protocol
from autobahn.websocket.protocol import PreparedMessage
from daphne.cli import CommandLineInterface
from daphne.server import Server, twisted_loop
from django.conf import settings

from chatproject import frame_unmask, ws_protocol
from chatproject.gc_freezer import GcFreezer
from chatproject.loop_watch import LoopWatch
from chatproject.shared_frames import SEND_SHARED, SharedFrame


class ChatServer(Server):
    def run(self):
        # Django, the app and their modules are loaded by now and live as long as the process:
        # frozen, the collector stops walking them in every full collection. Unfrozen, a full
        # collection paused the event loop for 100-140 ms under load (every socket waits).
        # The sockets' own objects are frozen as they survive collections (chatproject.gc_freezer).
        gc.collect()
        GcFreezer(twisted_loop).start()
        if settings.CHAT_LOOP_STALL_MS:
            LoopWatch(twisted_loop, threshold=settings.CHAT_LOOP_STALL_MS / 1000).start()
        return super().run()

    def create_application(self, protocol, scope):
        if scope.get("type") == "websocket" and (connection := self.connections.get(protocol)) is not None:
            # The connection's own dict, bound once: daphne marks it "disconnected" before it
            # forgets the connection, and looking it up per frame calls daphne's Python
            # __hash__ on the protocol for every frame to every socket.
            scope.setdefault("extensions", {})[SEND_SHARED] = partial(self._send_shared, protocol, connection)
        return super().create_application(protocol, scope)

    def _send_shared(self, protocol, connection: dict, frame: SharedFrame) -> bool:
        # What daphne's own handle_reply checks, plus the WebSocket state that autobahn's
        # sendMessage checks and sendPreparedMessage does not.
        if "disconnected" in connection or protocol.state != protocol.STATE_OPEN:
            return False
        if frame.wire is None:
            # Server frames are not masked. With permessage-deflate (which daphne does not
            # negotiate) autobahn compresses per socket, from the payload kept here.
            frame.wire = PreparedMessage(frame.text.encode(), isBinary=False, applyMask=False, doNotCompress=False)
        if protocol._perMessageCompress is None and not protocol.send_queue:
            # What sendPreparedMessage comes down to, without the arguments of a debug message
            # that autobahn formats (and colours) for every frame even with debug logging off.
            write_now(protocol.transport, frame.wire.payloadHybi)
        else:
            protocol.sendPreparedMessage(frame.wire)
        return True


def write_now(transport, data: bytes) -> None:
    """`transport.write(data)`, but straight into the socket when nothing is queued before it.

    Twisted buffers every write and sends it on the reactor's next turn: two epoll changes, a
    wake-up and a pass through its write machinery for every frame to every socket, though the
    kernel would almost always take the frame at once. Here the frame goes out now when
    Twisted has nothing buffered (so frames keep their order), and only what the socket did not
    take goes through Twisted's buffer. TLS connections and anything unusual take the plain way.
    """
    if (
        getattr(transport, "TLS", True)
        or not transport.connected
        or transport.disconnecting
        or transport._writeDisconnected
        or transport._tempDataLen
        or len(transport.dataBuffer) > transport.offset
    ):
        transport.write(data)
        return
    try:
        sent = transport.socket.send(data)
    except OSError:  # full (EAGAIN), or broken: Twisted's own write finds out and reports it
        sent = 0
    if sent < len(data):
        transport.write(data[sent:])


class _FormattedWhenLogged:
    """pprint.pformat(value), computed only if the log message it is an argument of is written."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __str__(self) -> str:
        return pprint.pformat(self.value)

    __repr__ = __str__


def _pformat_for_autobahn(value, *args, **kwargs):
    # Every new connection pformats autobahn's list of its ~40 options for a debug message,
    # debug logging on or off: 9% of the event loop while 10,000 sockets connected (py-spy,
    # bench's idle-10000). That list becomes text only if the message is written. autobahn's
    # other calls (its timings' __str__, a client's transport details) must get text now.
    if isinstance(value, list) and not args and not kwargs:
        return _FormattedWhenLogged(value)
    return pprint.pformat(value, *args, **kwargs)


class ChatCommandLineInterface(CommandLineInterface):
    server_class = ChatServer

    def run(self, args):
        # autobahn colours the arguments of debug messages it formats for every frame even with
        # debug logging off, through `click` whenever click is installed: plain text is cheaper.
        autobahn.util._HAS_CLICK = False
        autobahn_protocol.pformat = _pformat_for_autobahn
        frame_unmask.install()
        ws_protocol.install()
        return super().run(args)
