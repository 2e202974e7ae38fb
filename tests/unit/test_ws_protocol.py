"""The WebSocket protocol our server builds: autobahn's, less per-frame work nobody uses.

End to end, every realtime and STOMP test goes through it (tests/support/processes.py starts
`python -m chatproject.serve`); here, the two methods it changes.
"""

import autobahn.twisted.websocket
import daphne.server
import pytest

from chatproject import ws_protocol
from chatproject.ws_protocol import ChatWebSocketProtocol


class Recording(ChatWebSocketProtocol):
    def __init__(self) -> None:  # no transport, no factory: only what the two methods read
        self.failedByMe = False
        self.trackedTimings = None
        self.message_is_binary = False
        self.message_data = [b'{"type": ', b'"typing"}']
        self.received: list[tuple[bytes, bool]] = []
        self.fed: list[bytes] = []

    def _onMessage(self, payload, isBinary):
        self.received.append((payload, isBinary))

    def _dataReceived(self, data):
        self.fed.append(data)


def test_a_whole_message_reaches_daphne_without_the_observer_event(monkeypatch):
    protocol = Recording()
    monkeypatch.setattr(protocol, "fire", lambda *a, **k: pytest.fail("nobody observes; nothing to fire"))
    protocol.onMessageEnd()
    assert protocol.received == [(b'{"type": "typing"}', False)]
    assert protocol.message_data is None


def test_an_observer_of_the_message_event_still_hears_it():
    protocol = Recording()
    protocol.set_valid_events(["message"])
    heard = []
    protocol.on("message", lambda payload, is_binary: heard.append(payload))
    protocol.onMessageEnd()
    assert protocol.received == [(b'{"type": "typing"}', False)]
    assert heard == [b'{"type": "typing"}']


def test_a_message_failed_by_the_protocol_is_not_handed_on():
    protocol = Recording()
    protocol.failedByMe = True
    protocol.onMessageEnd()
    assert protocol.received == []
    assert protocol.message_data is None


def test_reads_go_to_the_frame_parser_without_formatting_a_debug_message(monkeypatch):
    monkeypatch.setattr(autobahn.twisted.websocket, "hltype", lambda *a: pytest.fail("formatted a debug message"))
    protocol = Recording()
    protocol.dataReceived(b"\x81\x85")
    assert protocol.fed == [b"\x81\x85"]


def test_install_makes_daphne_build_our_protocol(monkeypatch):
    monkeypatch.setattr(daphne.server, "WebSocketFactory", daphne.server.WebSocketFactory)
    ws_protocol.install()
    assert daphne.server.WebSocketFactory.protocol is ChatWebSocketProtocol
