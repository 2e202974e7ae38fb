"""Settings shared by every environment. Everything that varies is read in chatproject.env."""

from __future__ import annotations

from pathlib import Path

from chatproject.env import (
    database_from_url,
    env_choice,
    env_choice_or_int,
    env_choices,
    env_int,
    env_list,
    env_mysql_url,
    env_optional,
    env_str,
    is_mysql_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("CHAT_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = False
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # daphne replaces runserver with an ASGI one and must precede staticfiles (daphne.E001).
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "rooms",
    "messages.apps.ChatMessagesConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatproject.urls"
ASGI_APPLICATION = "chatproject.asgi.application"
WSGI_APPLICATION = "chatproject.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases -----------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": database_from_url(DATABASE_URL),
}
# Persistent connections: without them every message sent opens a new database connection.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer and cache: Redis when REDIS_URL is set, in-process otherwise -------------
REDIS_URL = env_optional("REDIS_URL")
# Rate-limit and presence keys start with this, so deployments can share a Redis database.
CHAT_REDIS_PREFIX = env_str("CHAT_REDIS_PREFIX", "chat")
# pubsub: one PUBLISH per group message and no polling; cheaper per delivery than core, with a
# lower p99 (docs/performance-analysis.md). What it gives up, a queue that keeps messages while
# a process reconnects to Redis, the chat log makes up for.
CHANNEL_LAYER_BACKEND = env_choice("CHAT_CHANNEL_LAYER", ["core", "pubsub"], "pubsub")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": {
                "core": "channels_redis.core.RedisChannelLayer",
                "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
            }[CHANNEL_LAYER_BACKEND],
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env_str("CHAT_CHANNEL_PREFIX", "chat"),
                # The default capacity (100) bounds a whole process's queue, not a socket's.
                "capacity": env_int("CHAT_CHANNEL_CAPACITY", 1000, minimum=1),
            }
            if CHANNEL_LAYER_BACKEND == "core"
            else {"hosts": [REDIS_URL], "prefix": env_str("CHAT_CHANNEL_PREFIX", "chat")},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CHAT_CACHE_PREFIX", "chatcache"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Chat log (messages live outside the ORM) ---------------------------------------
MONGO_URL = env_optional("MONGO_URL")
CHAT_LOG_BACKEND = env_choice("CHAT_LOG_BACKEND", ["sqlite", "mongo", "mysql"], "mongo" if MONGO_URL else "sqlite")
if CHAT_LOG_BACKEND == "mongo":
    env_str("MONGO_URL")  # chosen explicitly, but with nowhere to connect: stop here
# The MariaDB/MySQL chat log keeps its own tables, by default in the ORM's database.
CHAT_LOG_MYSQL_URL = (
    env_mysql_url("CHAT_LOG_MYSQL_URL", DATABASE_URL if is_mysql_url(DATABASE_URL) else None)
    if CHAT_LOG_BACKEND == "mysql"
    else None
)
CHAT_LOG = {
    "BACKEND": CHAT_LOG_BACKEND,
    "MONGO_URL": MONGO_URL,
    "MONGO_DB": env_str("MONGO_DB", "chat"),
    # "majority" for replica sets; 1 acknowledges on the primary only.
    # 0 (unacknowledged) is refused: it would hide the duplicate-key errors that keep seq unique.
    "MONGO_WRITE_CONCERN": env_choice_or_int("MONGO_WRITE_CONCERN", ["majority"], "majority", minimum=1),
    "SQLITE_PATH": env_str("CHAT_LOG_SQLITE_PATH", str(VAR_DIR / "chatlog.sqlite3")),
    "MYSQL_URL": CHAT_LOG_MYSQL_URL,
}

# --- Chat limits (docs/configuration.md and docs/protocol.md) ---------------------------
CHAT_MAX_BODY_CHARS = env_int("CHAT_MAX_BODY_CHARS", 4000, minimum=1)
CHAT_MAX_FRAME_BYTES = env_int("CHAT_MAX_FRAME_BYTES", 16 * 1024, minimum=1024)
CHAT_RATE_MESSAGES = env_int("CHAT_RATE_MESSAGES", 10, minimum=1)
CHAT_RATE_WINDOW_SECONDS = env_int("CHAT_RATE_WINDOW_SECONDS", 10, minimum=1)
CHAT_RESUME_MAX_MESSAGES = env_int("CHAT_RESUME_MAX_MESSAGES", 500, minimum=1)
CHAT_TYPING_INTERVAL_SECONDS = env_int("CHAT_TYPING_INTERVAL_SECONDS", 2, minimum=0)
CHAT_PRESENCE_TTL_SECONDS = env_int("CHAT_PRESENCE_TTL_SECONDS", 60, minimum=5)
# A server process logs its event loop held this long (and where), chatproject.loop_watch; 0: off.
CHAT_LOOP_STALL_MS = env_int("CHAT_LOOP_STALL_MS", 200, minimum=0)
# The event loop under daphne (chatproject.serve): uvloop, or the standard library's.
CHAT_EVENT_LOOP = env_choice("CHAT_EVENT_LOOP", ["uvloop", "asyncio"], "uvloop")
# What daphne may do beyond plain daphne (chatproject.server_tunings); each one is opt-in.
CHAT_SERVER_TUNINGS = env_choices("CHAT_SERVER_TUNINGS", ["shared-frames", "direct-writes", "gc-freeze"], [])

# --- Auth ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "rooms:list"
LOGOUT_REDIRECT_URL = "accounts:login"

REST_FRAMEWORK = {
    # The token class comes first so that an unauthenticated request gets 401 with
    # `WWW-Authenticate: Bearer` rather than a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "chatproject.api_errors.api_exception_handler",
    # Behind N proxies that each append to X-Forwarded-For, throttle on the client's address.
    # 0 (the default): ignore X-Forwarded-For and use the peer address, which daphne's
    # --proxy-headers already sets from the proxy.
    "NUM_PROXIES": env_int("DJANGO_NUM_PROXIES", 0),
    "DEFAULT_THROTTLE_RATES": {
        "auth": env_str("CHAT_AUTH_THROTTLE_RATE", "20/min"),
    },
}
SPECTACULAR_SETTINGS = {
    # The interactive docs' assets are served from here, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TITLE": "Chat API",
    "DESCRIPTION": "Rooms, accounts and message history of the chat server.",
    "VERSION": "1.0.0",
    # The schema and its docs page are public: they describe the API, they hold no data.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "chatproject.api_errors.document_authentication_errors",
    ],
}

# --- Internationalisation, static files -------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "staticfiles")))

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOG_LEVEL = env_str("DJANGO_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's own default gives "django" a console handler of its own (with DEBUG on): its
    # records would be printed by it and again by the root's.
    "loggers": {"django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}},
}
