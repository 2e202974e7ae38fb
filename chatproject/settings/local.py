"""The embedded default: runs with no external server and no environment at all.

SQLite for the ORM, the in-memory channel layer and an SQLite chat log (unless
DATABASE_URL / REDIS_URL / MONGO_URL say otherwise). Never use it in production.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "local-development-only-not-secret")

from chatproject.env import env_bool, env_list
from chatproject.settings.base import *

DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

# The embedded stores (SQLite files) live here.
VAR_DIR.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
