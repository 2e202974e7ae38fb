"""Reading settings from the environment: the only place that looks at os.environ."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str | None = None) -> str:
    """The variable's value; without a default a missing variable stops start-up."""
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"The environment variable {name} must be set.")
        return default
    return value


def env_optional(name: str) -> str | None:
    return os.environ.get(name) or None


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_choice(name: str, choices: list[str], default: str) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def env_choice_or_int(name: str, choices: list[str], default: str, *, minimum: int) -> str | int:
    """One of `choices`, or an integer of at least `minimum`."""
    value = env_str(name, default)
    if value in choices:
        return value
    if value.isascii() and value.isdigit():
        return env_int(name, minimum, minimum=minimum)
    raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)} or an integer >= {minimum}, not {value!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choices(name: str, choices: list[str], default: list[str]) -> list[str]:
    """A comma-separated list of some of `choices` ("all" for every one, "none" for none)."""
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip() == "all":
        return list(choices)
    items = [] if value.strip() in {"", "none"} else [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in items if item not in choices]
    if unknown:
        raise ImproperlyConfigured(f"{name} may list {', '.join(choices)} (or all, or none), not {unknown[0]!r}.")
    return items


def is_mysql_url(url: str) -> bool:
    return urlsplit(url).scheme in {"mysql", "mariadb"}


def env_mysql_url(name: str, default: str | None) -> str:
    """A mysql:// (or mariadb://) URL that names a database; without a default a missing one
    stops start-up. Error messages never repeat the URL: it holds a password."""
    url = env_str(name, default)
    if not is_mysql_url(url) or not urlsplit(url).path.strip("/"):
        raise ImproperlyConfigured(f"{name} must be a URL like mysql://user:password@host:3306/name.")
    return url


# MariaDB compares every emoji as equal under utf8mb4_general_ci/unicode_ci; this
# collation (MariaDB >= 10.10) tells them apart, so names with emoji stay distinct.
MYSQL_COLLATION = "utf8mb4_uca1400_ai_ci"


def database_from_url(url: str) -> dict:
    """A Django DATABASES entry from `mysql://user:pass@host:port/name` or `sqlite:///path`.

    For MySQL/MariaDB a host starting with `/` (URL-encoded as %2F) is a unix socket.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parts.path[1:]) or ":memory:"}
    if is_mysql_url(url):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("DATABASE_URL must name a database: mysql://user:pass@host/name")
        return {
            "ENGINE": "django.db.backends.mysql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(parts.port or ""),
            "OPTIONS": {
                "charset": "utf8mb4",
                "init_command": f"SET NAMES utf8mb4 COLLATE {MYSQL_COLLATION}, sql_mode='STRICT_TRANS_TABLES'",
            },
            "TEST": {"CHARSET": "utf8mb4", "COLLATION": MYSQL_COLLATION},
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported (use mysql:// or sqlite://).")
