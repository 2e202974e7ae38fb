from __future__ import annotations

from tests.realtime.conftest import alice, bob, make_user, room  # noqa: F401  (shared fixtures)


def stomp_url(server) -> str:
    return f"{server.ws_url}/ws/stomp/"
