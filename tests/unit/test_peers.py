"""What a hub knows of the other processes that serve a room (messages.realtime.peers)."""

from types import SimpleNamespace

from messages.realtime import peers
from messages.realtime.peers import RoomPeers


def test_a_room_has_peers_from_their_here_until_their_gone():
    room = RoomPeers()
    assert not room.any(1)
    room.heard(1, "hub-b")
    room.heard(2, "hub-c")
    assert room.any(1) and room.any(2)
    room.gone(1, "hub-b")
    assert not room.any(1) and room.any(2)
    room.forget(2)
    assert not room.any(2)


def test_a_peer_not_heard_from_again_is_forgotten(monkeypatch):
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(peers, "time", SimpleNamespace(monotonic=lambda: clock.now))
    room = RoomPeers()
    room.heard(1, "hub-b")
    clock.now += peers.EXPIRY_SECONDS - 1
    assert room.any(1)
    room.heard(1, "hub-b")  # its periodic here
    clock.now += peers.EXPIRY_SECONDS - 1
    assert room.any(1)
    clock.now += 2  # its process died: nothing heard for EXPIRY_SECONDS
    assert not room.any(1)


def test_a_hub_that_just_started_serving_a_room_assumes_a_peer_for_a_moment(monkeypatch):
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(peers, "time", SimpleNamespace(monotonic=lambda: clock.now))
    room = RoomPeers()
    room.started(1)
    assert room.any(1)  # nobody answered yet: it publishes, so that they hear it
    clock.now += peers.WARM_UP_SECONDS
    assert not room.any(1)
