"""ASGI entry point: HTTP through Django, WebSockets through Channels consumers."""

import contextlib
import os

from django.core.asgi import get_asgi_application
from django.urls import Resolver404, get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings.local")
# Load Django (apps, models) before anything that imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.websocket_auth import WebSocketAuthStack  # noqa: E402
from accounts.websocket_origin import OriginValidator  # noqa: E402
from messages.routing import websocket_urlpatterns  # noqa: E402


def _load_url_patterns() -> None:
    """Import every view and compile the URL patterns now, not on the first HTTP request:
    that request runs on the event loop, and the imports (DRF, the API schema, the admin)
    would hold it, and every socket of the process with it, for a noticeable while."""
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 (imports the URLconf and every view module)
    with contextlib.suppress(Resolver404):
        resolver.resolve("/")  # compiles the patterns


_load_url_patterns()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(WebSocketAuthStack(URLRouter(websocket_urlpatterns))),
    }
)
