"""Who is on the other end of a WebSocket: the session cookie, or an `Authorization` header.

Tokens travel only in the handshake's headers, never in the URL (URLs end up in logs).
"""

from __future__ import annotations

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.sessions import SessionMiddlewareStack
from django.contrib.auth.models import AnonymousUser

from accounts.signals import token_group
from accounts.tokens import token_key_from_authorization, user_for_token_key


def handshake_header(scope: dict, name: bytes) -> bytes | None:
    """The first value of a handshake header (`name` lower-case, as ASGI gives them)."""
    for key, value in scope.get("headers", []):
        if key == name:
            return value
    return None


def authorization_header(scope: dict) -> bytes | None:
    return handshake_header(scope, b"authorization")


class SessionAuthMiddleware(BaseMiddleware):
    """Channels' session authentication (its AuthMiddleware), skipped when the handshake
    carries a token: the token decides then (TokenHeaderAuthMiddleware, next in the stack), so
    reading the session's user, a hop to a database thread for every handshake, would be
    thrown away."""

    def __init__(self, inner):
        super().__init__(inner)
        self.with_session_user = AuthMiddleware(inner)

    async def __call__(self, scope, receive, send):
        if authorization_header(scope) is not None:
            return await self.inner(scope, receive, send)
        return await self.with_session_user(scope, receive, send)


class TokenHeaderAuthMiddleware(BaseMiddleware):
    """Replaces the session user with the token's user when the handshake carries a token.

    A present but invalid token leaves the socket anonymous (closed with 4401), even when a
    session cookie came along: a client that sends a token means that identity.
    """

    async def __call__(self, scope, receive, send):
        header = authorization_header(scope)
        if header is not None:
            scope = dict(scope)
            key = token_key_from_authorization(header)
            user = await database_sync_to_async(user_for_token_key)(key) if key else None
            scope["user"] = user or AnonymousUser()
            scope["auth_method"] = "token"
            # Revoking the token closes the sockets opened with it (accounts.signals).
            scope["token_group"] = token_group(key) if user else None
        else:
            scope = dict(scope, auth_method="session")
        return await super().__call__(scope, receive, send)


def WebSocketAuthStack(inner):
    return SessionMiddlewareStack(SessionAuthMiddleware(TokenHeaderAuthMiddleware(inner)))
