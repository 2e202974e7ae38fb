"""Destination names: subscribe to `/topic/rooms.<slug>`, send to `/app/rooms.<slug>`.

The split follows the convention of Spring and RabbitMQ's STOMP plugins: `/topic/` is what
the server publishes, `/app/` is what the application handles before anything is published.
"""

from __future__ import annotations

import re

from messages.stomp.errors import INVALID_FRAME, StompError
from rooms.models import ROOM_SLUG_MAX_LENGTH

TOPIC_PREFIX = "/topic/rooms."
APP_PREFIX = "/app/rooms."
_SLUG = re.compile(rf"[-a-zA-Z0-9_]{{1,{ROOM_SLUG_MAX_LENGTH}}}")


def topic(slug: str) -> str:
    return TOPIC_PREFIX + slug


def topic_slug(destination: str) -> str:
    """The room slug of a SUBSCRIBE destination."""
    return _slug(destination, TOPIC_PREFIX)


def app_slug(destination: str) -> str:
    """The room slug of a SEND destination."""
    return _slug(destination, APP_PREFIX)


def _slug(destination: str, prefix: str) -> str:
    slug = destination.removeprefix(prefix)
    if slug == destination or not _SLUG.fullmatch(slug):
        raise StompError(INVALID_FRAME, f"The destination must be {prefix}<room slug>, not {destination[:80]!r}.")
    return slug
