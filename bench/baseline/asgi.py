"""ASGI entry point of the baseline: `daphne bench.baseline.asgi:application`."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baseline.settings")
django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.baseline.consumers import BaselineChatConsumer  # noqa: E402


async def ready(scope, receive, send):
    """Any HTTP request: 200, so the harness can tell the server is up."""
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"baseline\n"})


application = ProtocolTypeRouter(
    {
        "http": ready,
        "websocket": URLRouter([path("ws/rooms/<str:slug>/", BaselineChatConsumer.as_asgi())]),
    }
)
