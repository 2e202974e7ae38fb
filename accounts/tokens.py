"""API tokens for non-browser clients (bots, load generators, STOMP and API clients)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from rest_framework.authtoken.models import Token

# `Authorization: Bearer <key>` is what most HTTP clients send; DRF's `Token <key>` works too.
AUTHORIZATION_KEYWORDS = (b"bearer", b"token")


def token_for_user(*, user: AbstractBaseUser) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def user_for_token_key(key: str) -> AbstractBaseUser | None:
    """The active user owning the token, or None."""
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


def token_key_from_authorization(header: bytes) -> str | None:
    """The key from `Authorization: Bearer <key>` (or `Token <key>`), None for anything else."""
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() not in AUTHORIZATION_KEYWORDS:
        return None
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        return None
