"""Logging out ends the user's live sockets that were opened with that session."""

from __future__ import annotations

import hashlib

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver


def session_group(session_key: str) -> str:
    # Group names are public within the channel layer; never put the session key itself there.
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


@receiver(user_logged_out)
def close_sockets_of_session(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if not session_key:
        return
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(session_group(session_key), {"type": "session.ended"})
