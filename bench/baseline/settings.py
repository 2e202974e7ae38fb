"""Settings of the baseline server: Channels and channels-redis, nothing else.

No database, no authentication, no apps of ours. The channel layer is configured exactly as
the app's (chatproject/settings/base.py), from the same environment variables, so a
comparison measures the app's own work, not a different layer setting.
"""

import os

SECRET_KEY = "baseline-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
DATABASES: dict = {}
ASGI_APPLICATION = "bench.baseline.asgi.application"
USE_TZ = True

_REDIS_URL = os.environ["REDIS_URL"]
_PREFIX = os.environ.get("CHAT_CHANNEL_PREFIX") or "baseline"
if (os.environ.get("CHAT_CHANNEL_LAYER") or "pubsub") == "core":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [_REDIS_URL],
                "prefix": _PREFIX,
                "capacity": int(os.environ.get("CHAT_CHANNEL_CAPACITY") or 1000),
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [_REDIS_URL], "prefix": _PREFIX},
        }
    }
