"""The app as benchmarked: chatproject/settings/base.py, configured by the environment that
bench/run sets (MariaDB, a private Redis, the chat-log backend, raised rate limits).

Production settings cannot be used as they are: they refuse the SQLite chat log unless it is
chosen explicitly and redirect plain HTTP to HTTPS. What differs from base is listed here.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")

from chatproject.settings.base import *  # noqa: F403
from chatproject.settings.base import STATIC_ROOT

ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# Signing up hundreds of accounts is set-up, not what is measured: the default hasher spends
# ~0.3 s of server CPU per account. Token authentication never hashes a password.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No collectstatic for a benchmark: serve static files from static/ (only the log-in page uses them).
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
