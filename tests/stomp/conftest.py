from __future__ import annotations

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
