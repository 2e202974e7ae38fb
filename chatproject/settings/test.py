"""The test suite: the real servers (MariaDB, Redis, the MongoDB wire server) from the environment.

scripts/test sets DATABASE_URL, REDIS_URL and MONGO_URL; tests/conftest.py starts the wire server.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")

from chatproject.settings.base import *

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only

# Serve static files straight from static/ (no collectstatic), as daphne does for the browser tests.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Test-only: a channel layer that drops and reorders room messages (tests/support/lossy_layer.py).
if os.environ.get("CHAT_TEST_LOSSY_LAYER") == "1":
    CHANNEL_LAYERS["default"]["BACKEND"] = {
        "core": "tests.support.lossy_layer.LossyRedisChannelLayer",
        "pubsub": "tests.support.lossy_layer.LossyRedisPubSubChannelLayer",
    }[CHANNEL_LAYER_BACKEND]

# Test-only: a channel layer that holds every room message for that many seconds.
if os.environ.get("CHAT_TEST_BROADCAST_DELAY"):
    CHANNEL_LAYERS["default"]["BACKEND"] = "tests.support.lossy_layer.HeldRedisPubSubChannelLayer"
