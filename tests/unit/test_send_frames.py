"""The server's `chat.send_frames` extension (the `shared-frames` tuning): what it writes, and when it refuses."""

import pytest
from daphne.server import Server

from chatproject.server_tunings import SHARED_FRAMES, ChatServer
from chatproject.shared_frames import SEND_FRAMES, SharedFrame


class FakeProtocol:
    STATE_OPEN = 1

    def __init__(self) -> None:
        self.state = self.STATE_OPEN
        self.websocket_extensions_in_use = []
        self.sent = []  # what went to the transport, write by write

    def sendPreparedMessage(self, prepared) -> None:
        self.sent.append(prepared.payloadHybi)

    def sendData(self, data: bytes) -> None:
        self.sent.append(data)


@pytest.fixture
def bind(monkeypatch):
    """The extension a socket's scope gets, and daphne's record of that socket's connection.
    daphne's own create_application (which starts the application) does nothing here."""
    monkeypatch.setattr(Server, "create_application", lambda self, protocol, scope: None)
    server = ChatServer.__new__(ChatServer)  # no endpoints, no reactor: the connection table only
    server.connections = {}
    server.tunings = frozenset({SHARED_FRAMES})

    def bind(protocol):
        server.connections[protocol] = {"connected": 0.0}  # daphne's protocol_connected
        scope = {"type": "websocket"}
        server.create_application(protocol, scope)
        return scope["extensions"][SEND_FRAMES], server.connections[protocol]

    return bind


def test_a_frame_goes_to_every_open_socket_framed_once(bind):
    first, second = FakeProtocol(), FakeProtocol()
    (send_first, _), (send_second, _) = bind(first), bind(second)
    frame = SharedFrame('{"type": "message.new"}')
    assert send_first([frame]) and send_second([frame])
    assert first.sent == second.sent == [b'\x81\x17{"type": "message.new"}']
    assert frame.wire is not None  # framed once, kept for every other socket


def test_frames_for_one_socket_go_out_in_one_write_in_order(bind):
    protocol = FakeProtocol()
    send, _ = bind(protocol)
    assert send([SharedFrame("a"), SharedFrame("bc")])
    assert protocol.sent == [b"\x81\x01a\x81\x02bc"]


def test_a_socket_daphne_marked_disconnected_gets_nothing(bind):
    protocol = FakeProtocol()
    send, connection = bind(protocol)
    connection["disconnected"] = 12.5  # what daphne's protocol_disconnected sets
    assert send([SharedFrame("late")]) is False
    assert protocol.sent == []


def test_a_socket_no_longer_open_gets_nothing(bind):
    protocol = FakeProtocol()
    send, _ = bind(protocol)
    protocol.state = 3  # closing
    assert send([SharedFrame("late")]) is False
    assert protocol.sent == []


def test_without_the_tuning_no_scope_gets_the_extension(monkeypatch):
    monkeypatch.setattr(Server, "create_application", lambda self, protocol, scope: None)
    server = ChatServer.__new__(ChatServer)
    server.connections, server.tunings = {}, frozenset()
    protocol, scope = FakeProtocol(), {"type": "websocket"}
    server.connections[protocol] = {"connected": 0.0}
    server.create_application(protocol, scope)
    assert SEND_FRAMES not in scope.get("extensions", {})
