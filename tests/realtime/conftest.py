from __future__ import annotations

import pytest

from tests.factories import RoomFactory, UserFactory, token_for
from tests.support.servers import daphne_pair as two_daphnes
from tests.support.servers import start_daphne


@pytest.fixture(scope="module")
def daphne_pair(django_db_setup, django_db_blocker):
    """Two daphne processes sharing Redis, MariaDB and the chat log, for the whole module.

    Their idle database connections hold no locks (autocommit), so each test's flush of the
    database does not wait on them.
    """
    with django_db_blocker.unblock(), two_daphnes("") as pair:
        yield pair


@pytest.fixture
def server_a(daphne_pair, transactional_db):
    return daphne_pair[0]


@pytest.fixture
def server_b(daphne_pair, transactional_db):
    return daphne_pair[1]


@pytest.fixture
def servers_with(transactional_db):
    """Start daphne processes with extra settings (environment variables); stopped after the test."""
    started = []

    def start(name: str, **env: str):
        server = start_daphne(name, **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def user_with_token(**kwargs):
    """A user whose API token is at hand as `user.token`."""
    user = UserFactory(**kwargs)
    user.token = token_for(user)
    return user


@pytest.fixture
def people(transactional_db):
    """Four users with tokens."""
    return [user_with_token() for _ in range(4)]


@pytest.fixture
def room(transactional_db):
    return RoomFactory()


def room_url(server, room) -> str:
    return f"{server.ws_url}/ws/rooms/{room.slug}/"


@pytest.fixture
def make_user(transactional_db):
    """Make users with tokens inside a test: `make_user(username="ann")`."""
    return user_with_token
