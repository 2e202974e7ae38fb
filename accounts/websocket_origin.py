"""Cross-site WebSocket hijacking protection.

A browser always sends `Origin` with a WebSocket handshake, and would attach the user's
session cookie even for a page on another site; so a present `Origin` must name one of
ALLOWED_HOSTS. A handshake with no `Origin` comes from a non-browser client, which is only
accepted when it authenticates with a token header rather than a cookie, or carries no
cookie at all: such a socket is anonymous until it signs in inside its protocol (STOMP's
CONNECT with login and passcode), and an anonymous room socket is closed with 4401.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host

from accounts.websocket_auth import authorization_header, handshake_header


def origin_allowed(scope: dict) -> bool:
    origin = handshake_header(scope, b"origin")
    if origin is None:
        return authorization_header(scope) is not None or handshake_header(scope, b"cookie") is None
    try:
        parsed = urlsplit(origin.decode("latin1"))
    except ValueError:
        return False
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        return False
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    # ALLOWED_HOSTS spells IPv6 addresses in brackets; urlsplit strips them.
    domain = f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname
    return validate_host(domain, allowed_hosts)


class OriginValidator:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
