"""Which other processes serve a room, so that a room served by one process costs Redis nothing.

Every channel-layer publish is a Redis round trip through redis-py, which costs far more than
writing the message to the room's sockets (docs/performance-analysis.md). So each hub keeps,
per room it serves, the other hubs that serve it too, and its process publishes a room event
to the channel layer only when there is one; its own sessions always get the event at once,
from memory.

Hubs learn of each other through the room's group: a hub that starts serving a room says
`hub.here` and asks the others to answer (each does, to its channel), repeats it every
`ANNOUNCE_SECONDS`, and says `hub.gone` when it stops; a peer not heard from for
`EXPIRY_SECONDS` (its process died) is forgotten.

Being wrong costs time, never a message. A hub that thinks it has a peer publishes to nobody.
A hub that does not know of a new peer yet (its `hub.here` still on its way) does not publish
to it: the peer's sessions then fill that message from the log, when the next one comes, or
at the peer's own check of the log `JOIN_CHECK_SECONDS` after it joined, or at its tail
check (messages.realtime.hub). A hub that has just started serving a room cannot know its
peers yet, so for its first `WARM_UP_SECONDS` it publishes everything (its first sessions'
presence, above all, which nothing else would repeat to the others).
"""

from __future__ import annotations

import time

ANNOUNCE_SECONDS = 30.0
EXPIRY_SECONDS = 3 * ANNOUNCE_SECONDS
# Long enough for the other hubs' answers to arrive (one Redis round trip each way).
JOIN_CHECK_SECONDS = 0.25
WARM_UP_SECONDS = 1.0


class RoomPeers:
    def __init__(self) -> None:
        self._peers: dict[int, dict[str, float]] = {}  # room_id -> other hub's channel -> heard until
        self._warming: dict[int, float] = {}  # room_id -> until when this hub assumes it has a peer

    def started(self, room_id: int) -> None:
        """This hub starts serving the room: it has not heard from the others yet."""
        self._warming[room_id] = time.monotonic() + WARM_UP_SECONDS

    def heard(self, room_id: int, hub: str) -> None:
        self._peers.setdefault(room_id, {})[hub] = time.monotonic() + EXPIRY_SECONDS

    def gone(self, room_id: int, hub: str) -> None:
        peers = self._peers.get(room_id)
        if peers is not None:
            peers.pop(hub, None)

    def any(self, room_id: int) -> bool:
        """Whether another process serves the room, as far as this one has heard (or may, while
        it has not heard yet)."""
        now = time.monotonic()
        if (warming := self._warming.get(room_id)) is not None:
            if now < warming:
                return True
            del self._warming[room_id]
        peers = self._peers.get(room_id)
        if not peers:
            return False
        for hub in [hub for hub, until in peers.items() if until <= now]:
            del peers[hub]
        return bool(peers)

    def forget(self, room_id: int) -> None:
        """This process no longer serves the room."""
        self._peers.pop(room_id, None)
        self._warming.pop(room_id, None)
