"""Heart-beat negotiation (messages/stomp/heartbeat.py): both sides must compute the same periods."""

from __future__ import annotations

import pytest

from messages.stomp.errors import StompError
from messages.stomp.frames import Frame
from messages.stomp.heartbeat import HEARTBEAT_MIN_MS, Heartbeats


@pytest.mark.parametrize(
    ("client", "send_ms", "expect_ms"),
    [
        (None, 0, 0),  # no header: no heart-beats
        ("0,0", 0, 0),
        ("10000,10000", 10000, 10000),  # stompjs' default
        ("0,5000", 5000, 0),  # the client cannot send, but wants to receive
        ("5000,0", 0, 5000),
        ("100,200", HEARTBEAT_MIN_MS, HEARTBEAT_MIN_MS),  # never faster than the server's offer
        (" 2000 , 3000 ", 3000, 2000),
    ],
)
def test_the_larger_offer_wins(client, send_ms, expect_ms):
    frame = Frame("CONNECT", (("heart-beat", client),) if client is not None else ())
    assert Heartbeats.negotiate(frame) == Heartbeats(send_ms=send_ms, expect_ms=expect_ms)
    assert Heartbeats.server_offer() == f"{HEARTBEAT_MIN_MS},{HEARTBEAT_MIN_MS}"


@pytest.mark.parametrize("client", ["", "1000", "1000,", "a,b", "-1,0", "1,2,3", "9999999999,0"])
def test_a_malformed_offer_is_refused(client):
    with pytest.raises(StompError) as error:
        Heartbeats.negotiate(Frame("CONNECT", (("heart-beat", client),)))
    assert error.value.code == "invalid_frame"
