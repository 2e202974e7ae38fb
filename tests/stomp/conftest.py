from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.factories import UserFactory, token_for
from tests.realtime.conftest import daphne_pair, make_user, room, server_a, server_b  # noqa: F401  (shared fixtures)


def stomp_url(server) -> str:
    return f"{server.ws_url}/ws/stomp/"


@pytest.fixture
def alice(transactional_db):
    user = UserFactory(username="alice")
    user.token = token_for(user)
    return user


@pytest.fixture
def bob(transactional_db):
    user = UserFactory(username="bob")
    user.token = token_for(user)
    return user


def api(server, method: str, path: str, token: str, body: dict | None = None) -> int:
    """Call the HTTP API as the token's user; the status code."""
    request = urllib.request.Request(
        f"{server.http_url}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
