"""The server's `chat.send_shared` extension: what it writes, and when it refuses."""

import pytest
from daphne.server import Server

from chatproject.daphne_server import ChatServer
from chatproject.shared_frames import SEND_SHARED, SharedFrame


class FakeProtocol:
    STATE_OPEN = 1

    def __init__(self) -> None:
        self.state = self.STATE_OPEN
        self._perMessageCompress = object()  # takes autobahn's own send, not the raw socket
        self.sent = []

    def sendPreparedMessage(self, prepared) -> None:
        self.sent.append(prepared.payloadHybi)


@pytest.fixture
def bind(monkeypatch):
    """The extension a socket's scope gets, and daphne's record of that socket's connection.
    daphne's own create_application (which starts the application) does nothing here."""
    monkeypatch.setattr(Server, "create_application", lambda self, protocol, scope: None)
    server = ChatServer.__new__(ChatServer)  # no endpoints, no reactor: the connection table only
    server.connections = {}

    def bind(protocol):
        server.connections[protocol] = {"connected": 0.0}  # daphne's protocol_connected
        scope = {"type": "websocket"}
        server.create_application(protocol, scope)
        return scope["extensions"][SEND_SHARED], server.connections[protocol]

    return bind


def test_a_frame_goes_to_every_open_socket_framed_once(bind):
    first, second = FakeProtocol(), FakeProtocol()
    (send_first, _), (send_second, _) = bind(first), bind(second)
    frame = SharedFrame('{"type": "message.new"}')
    assert send_first(frame) and send_second(frame)
    assert first.sent == second.sent == [b'\x81\x17{"type": "message.new"}']


def test_a_socket_daphne_marked_disconnected_gets_nothing(bind):
    protocol = FakeProtocol()
    send, connection = bind(protocol)
    connection["disconnected"] = 12.5  # what daphne's protocol_disconnected sets
    assert send(SharedFrame("late")) is False
    assert protocol.sent == []


def test_a_socket_no_longer_open_gets_nothing(bind):
    protocol = FakeProtocol()
    send, _ = bind(protocol)
    protocol.state = 3  # closing
    assert send(SharedFrame("late")) is False
    assert protocol.sent == []
