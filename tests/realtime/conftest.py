from __future__ import annotations

import pytest

from tests.factories import RoomFactory, UserFactory, token_for


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
def alice(transactional_db):
    return user_with_token(username="alice")


@pytest.fixture
def bob(transactional_db):
    return user_with_token(username="bob")


@pytest.fixture
def room(transactional_db):
    return RoomFactory()


def room_url(server, room) -> str:
    return f"{server.ws_url}/ws/rooms/{room.slug}/"


@pytest.fixture
def make_user(transactional_db):
    """Make users with tokens inside a test: `make_user(username="ann")`."""
    return user_with_token
