"""stomp.py (PyPI `stomp-py`), a STOMP client we did not write, over its WebSocket transport."""

from __future__ import annotations

import json
import queue
import threading
import time

import pytest
import stomp


class Recorder(stomp.ConnectionListener):
    """Everything stomp.py's receiver thread hands over, for the test's thread to wait on."""

    def __init__(self) -> None:
        self.frames: queue.Queue = queue.Queue()
        self.heartbeats = 0
        self.disconnected = threading.Event()

    def on_message(self, frame) -> None:
        self.frames.put(("MESSAGE", frame))

    def on_receipt(self, frame) -> None:
        self.frames.put(("RECEIPT", frame))

    def on_error(self, frame) -> None:
        self.frames.put(("ERROR", frame))

    def on_heartbeat(self) -> None:
        self.heartbeats += 1

    def on_disconnected(self) -> None:
        self.disconnected.set()

    def next(self, command: str, timeout: float = 5):
        got, frame = self.frames.get(timeout=timeout)
        assert got == command, f"expected {command}, got {got} {frame.headers} {frame.body!r}"
        return frame


def _connection(server, *, header: dict | None = None) -> tuple[stomp.WSStompConnection, Recorder]:
    connection = stomp.WSStompConnection(
        [("127.0.0.1", server.port)],
        ws_path="/ws/stomp/",
        header=header,
        heartbeats=(1000, 1000),
        reconnect_attempts_max=1,
    )
    recorder = Recorder()
    connection.set_listener("recorder", recorder)
    return connection, recorder


def test_stomp_py_subscribes_sends_receives_with_receipts_and_heartbeats(server_a, server_b, room, alice, bob):
    topic, app = f"/topic/rooms.{room.slug}", f"/app/rooms.{room.slug}"
    # alice signs in with login and passcode (her API token) ...
    conn, seen = _connection(server_a)
    conn.connect("alice", alice.token, wait=True)
    # ... bob, on the other process, with the Authorization header on the handshake.
    other, other_seen = _connection(server_b, header={"Authorization": f"Bearer {bob.token}"})
    other.connect(wait=True)
    try:
        conn.subscribe(topic, id="py", headers={"receipt": "sub"})
        assert seen.next("RECEIPT").headers["receipt-id"] == "sub"

        conn.send(
            app, "hello from stomp.py 🐍", content_type="text/plain", headers={"client-id": "p1", "receipt": "s1"}
        )
        receipt = seen.next("RECEIPT")
        assert receipt.headers["receipt-id"] == "s1" and receipt.headers["seq"] == "1"
        own = seen.next("MESSAGE")
        assert own.headers["subscription"] == "py" and own.headers["destination"] == topic
        assert own.headers["message-id"] == receipt.headers["message-id"]
        assert json.loads(own.body)["body"] == "hello from stomp.py 🐍"

        other.send(app, "and from bob", headers={"receipt": "b1"})
        assert other_seen.next("RECEIPT").headers["seq"] == "2"
        theirs = seen.next("MESSAGE")
        message = json.loads(theirs.body)
        assert theirs.headers["seq"] == "2" and message["author"]["username"] == "bob"

        # Idle for a while: the server's EOLs arrive, stomp.py's keep the connection open.
        time.sleep(3.2)
        assert seen.heartbeats >= 2 and conn.is_connected()
        conn.send(app, "still here")
        assert json.loads(seen.next("MESSAGE").body)["seq"] == 3
    finally:
        conn.disconnect(receipt="bye")
        other.disconnect()
    assert seen.disconnected.wait(5)


def test_stomp_py_sees_an_error_then_the_close(server_a, alice):
    conn, seen = _connection(server_a)
    conn.connect("alice", alice.token, wait=True)
    conn.send("/app/rooms.nowhere", "lost?", headers={"receipt": "r"})
    error = seen.next("ERROR")
    assert error.headers["message"] == "not_found" and error.headers["receipt-id"] == "r"
    assert seen.disconnected.wait(5)
    conn.disconnect()


def test_stomp_py_with_a_wrong_passcode_cannot_connect(server_a, alice, bob):
    conn, seen = _connection(server_a)
    with pytest.raises(stomp.exception.ConnectFailedException):
        conn.connect("alice", bob.token, wait=True)
    error = seen.next("ERROR")
    assert error.headers["message"] == "unauthenticated"
    assert seen.disconnected.wait(5)
