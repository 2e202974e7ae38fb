"""ASGI entry point: HTTP through Django, WebSockets through Channels consumers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings.local")
# Load Django (apps, models) before anything that imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.websocket_auth import WebSocketAuthStack  # noqa: E402
from accounts.websocket_origin import OriginValidator  # noqa: E402
from messages.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(WebSocketAuthStack(URLRouter(websocket_urlpatterns))),
    }
)
