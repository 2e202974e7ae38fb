"""WSGI entry point (HTTP only; the chat needs the ASGI one in asgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings.local")
application = get_wsgi_application()
