"""Opening a STOMP session: the WebSocket subprotocol, then CONNECT's version and user
(its heart-beats are in messages.stomp.heartbeat)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from accounts.tokens import user_for_token_key
from messages.async_orm import db_call
from messages.stomp.errors import UNAUTHENTICATED, UNSUPPORTED_VERSION, StompError
from messages.stomp.frames import VERSIONS, Frame

# The names of the STOMP over WebSocket convention (stompjs, RabbitMQ, Spring), best first.
SUBPROTOCOLS = ("v12.stomp", "v11.stomp", "v10.stomp")


def choose_subprotocol(offered: list[str]) -> str | None:
    """The best STOMP subprotocol the client offered; None accepts without one (stomp.py
    offers none), which also ignores subprotocols that are not STOMP's."""
    return next((name for name in SUBPROTOCOLS if name in offered), None)


def negotiate_version(frame: Frame) -> str:
    """The highest version both sides speak. No `accept-version` means a 1.0 client."""
    offered = {v.strip() for v in (frame.header("accept-version") or "1.0").split(",")}
    common = [v for v in VERSIONS if v in offered]
    if not common:
        raise StompError(
            UNSUPPORTED_VERSION, f"Supported protocol versions are {' '.join(VERSIONS)}.", version=",".join(VERSIONS)
        )
    return common[-1]


@db_call
def _token_user(key: str) -> AbstractBaseUser | None:
    return user_for_token_key(key)


async def authenticate(frame: Frame, scope: dict) -> tuple[AbstractBaseUser, str]:
    """The user and how they proved it ("passcode", "token" or "session").

    A `passcode` decides, like the Authorization header does on the JSON endpoint: a client
    that sends a token means that identity. Its `login` must name the token's owner, so that
    a token pasted into the wrong client does not silently act as someone else.
    """
    passcode = frame.header("passcode")
    if passcode is not None:
        user = await _token_user(passcode) if passcode else None
        if user is None or frame.header("login") != user.get_username():
            raise StompError(UNAUTHENTICATED, "login and passcode must be a username and that user's API token.")
        return user, "passcode"
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        raise StompError(
            UNAUTHENTICATED,
            "Sign in first: a session cookie, an Authorization header on the handshake, "
            "or login (username) and passcode (API token) in CONNECT.",
        )
    return user, scope.get("auth_method", "session")
