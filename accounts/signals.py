"""When a login ends, its live sockets end too: a session that logs out, an API token that is
revoked or deleted, a user who is deactivated or deleted.

Each socket joins the channel-layer group of the login it was opened with (`login_group`) and
of its user (`user_group`); a `session.ended` event to either closes it (code 4001). Events go
out once the change has committed, so a rolled-back change closes nothing.
"""

from __future__ import annotations

import hashlib
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

logger = logging.getLogger(__name__)

SESSION_ENDED = {"type": "session.ended"}


def _digest(secret: str) -> str:
    # Group names are public within the channel layer; never put a session key or token there.
    return hashlib.sha256(secret.encode()).hexdigest()[:40]


def session_group(session_key: str) -> str:
    return "session." + _digest(session_key)


def token_group(token_key: str) -> str:
    return "token." + _digest(token_key)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def login_group(scope: dict) -> str | None:
    """The group of the login a WebSocket handshake was made with: its token's (set by
    accounts.websocket_auth) or its session's; None for neither."""
    if scope.get("auth_method") == "token":
        return scope.get("token_group")
    session = scope.get("session")
    if session is not None and session.session_key:
        return session_group(session.session_key)
    return None


def end_sockets_of(group: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, SESSION_ENDED)
    except Exception:
        # Logging out, revoking or deactivating must work even when Redis is down; those
        # sockets then stay until they close (a reconnect is refused).
        logger.exception("could not close the sockets of a login that ended")


@receiver(user_logged_out)
def close_sockets_of_session(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        end_sockets_of(session_group(session_key))


@receiver(post_delete, sender=Token)
def close_sockets_of_token(sender, instance: Token, **kwargs) -> None:
    group = token_group(instance.key)
    transaction.on_commit(lambda: end_sockets_of(group))


@receiver(post_save, sender=get_user_model())
def close_sockets_of_deactivated_user(sender, instance, created: bool, **kwargs) -> None:
    if not created and not instance.is_active:
        group = user_group(instance.pk)
        transaction.on_commit(lambda: end_sockets_of(group))


@receiver(post_delete, sender=get_user_model())
def close_sockets_of_deleted_user(sender, instance, **kwargs) -> None:
    group = user_group(instance.pk)
    transaction.on_commit(lambda: end_sockets_of(group))
