"""Production: every secret comes from the environment, with no default."""

from django.core.exceptions import ImproperlyConfigured

from chatproject.env import env_bool, env_int, env_optional, env_str
from chatproject.settings.base import *

DEBUG = False
# Production never falls back to the embedded stores: a missing variable stops start-up.
for _required in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOWED_HOSTS"):
    env_str(_required)
# Nor does the chat log: it is on MongoDB unless CHAT_LOG_BACKEND names another store.
if env_optional("CHAT_LOG_BACKEND") is None and MONGO_URL is None:
    raise ImproperlyConfigured("Set MONGO_URL, or CHAT_LOG_BACKEND to keep the chat log in another store.")

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (docs/operations.md).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Rewrites `import ... from "./x.js"` to hashed names too, so a deploy never mixes old and
    # new modules in a browser's cache.
    "staticfiles": {"BACKEND": "chatproject.storage.StaticFilesStorage"},
}
