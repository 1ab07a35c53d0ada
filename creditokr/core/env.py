"""Typed readers for the settings that come from environment variables.

Every reader names the variable in its error, so a bad value stops start-up
with a message the administrator can act on.
"""

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.utils.module_loading import import_string


class SettingError(Exception):
    """A setting from the environment has a value the app cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default

    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name}={raw!r} is not a yes/no value; use 1 or 0.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default

    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise SettingError(f"{name} is set but empty; give a comma-separated list.")
    return items


def env_origins(name: str, default: list[str]) -> list[str]:
    """A comma-separated list of origins, each http(s)://host[:port]."""
    origins = env_list(name, default)
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https"):
            raise SettingError(
                f"{name} entry {origin!r} must start with https:// or http://,"
                " like https://okr.example.com."
            )
        if not parts.netloc:
            raise SettingError(
                f"{name} entry {origin!r} names no host; write it like "
                "https://okr.example.com."
            )
    return origins


def env_import_path(name: str, default: str) -> str:
    """A dotted path to a class, checked by importing it now."""
    value = os.environ.get(name, default)
    try:
        import_string(value)
    except ImportError as error:
        raise SettingError(
            f"{name}={value!r} cannot be imported ({error}); give a dotted "
            "path such as django.core.mail.backends.smtp.EmailBackend."
        ) from None
    return value


def env_choice(name: str, default: str, choices: list[str]) -> str:
    """One of `choices`, matched without regard to case."""
    value = os.environ.get(name, default)
    by_case = {choice.casefold(): choice for choice in choices}
    if value.casefold() not in by_case:
        raise SettingError(f"{name}={value!r} is not one of {', '.join(choices)}.")
    return by_case[value.casefold()]


def env_var_dir(name: str, default: Path) -> Path:
    """The folder for the database and generated key; it must be writable."""
    path = Path(os.environ.get(name, str(default)))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingError(
            f"{name}={str(path)!r} cannot be created: {error.strerror}."
        ) from None
    if not os.access(path, os.W_OK):
        raise SettingError(f"{name}={str(path)!r} is not writable.")
    return path


def env_time_zone(name: str, default: str) -> str:
    value = os.environ.get(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a folder of zones, such as "America", is not one.
        raise SettingError(
            f"{name}={value!r} is not a known time zone (try Europe/London)."
        ) from None
    return value


SQLITE = "django.db.backends.sqlite3"
POSTGRESQL = "django.db.backends.postgresql"
SUPPORTED_URLS = (
    "use postgres://user:password@host:5432/name (or postgresql://...) "
    "or sqlite:///path/to/file.db."
)


def env_database(name: str, default_sqlite: Path) -> dict[str, Any]:
    """Database settings from a URL, with SQLite tuned for a web app."""
    raw = os.environ.get(name)
    if raw is None:
        default_sqlite.parent.mkdir(parents=True, exist_ok=True)
        return sqlite_settings(default_sqlite)

    try:
        config: dict[str, Any] = dict(dj_database_url.parse(raw))
    except dj_database_url.UnknownSchemeError:
        raise SettingError(
            f"{name} is not a database URL we can use: its scheme is not one we "
            f"support; {SUPPORTED_URLS}"
        ) from None
    except ValueError:
        raise SettingError(
            f"{name} is not a database URL we can use: part of it is malformed "
            "(a port that is not a number, or a special character in the "
            f"password that is not %-encoded); {SUPPORTED_URLS}"
        ) from None

    engine = config.get("ENGINE")
    if engine not in (SQLITE, POSTGRESQL):
        raise SettingError(
            f"{name} names a database engine we do not support; {SUPPORTED_URLS}"
        )

    if engine == SQLITE:
        if config["NAME"] in ("", ":memory:"):
            raise SettingError(f"{name} needs a file path for SQLite, not memory.")
        path = Path(config["NAME"])
        if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
            raise SettingError(
                f"{name} puts the SQLite file in {str(path.parent)!r}, which is "
                "not a folder we can write to; create it first."
            )
        return sqlite_settings(path)
    if not config.get("NAME"):
        raise SettingError(
            f"{name} names no database; end the URL with its name, like "
            "postgres://user:password@host:5432/creditokr."
        )
    # Under ASGI (uvicorn) Django advises against persistent connections.
    config["CONN_MAX_AGE"] = 0
    config["CONN_HEALTH_CHECKS"] = True
    return config


def sqlite_settings(path: Path) -> dict[str, Any]:
    """SQLite for several users at once.

    WAL lets readers carry on while one writer writes; IMMEDIATE takes the
    write lock when a transaction begins, so a second writer waits (up to the
    timeout) instead of failing half-way with "database is locked".
    """
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
            ),
        },
    }


def env_secret_key(name: str, key_file: Path) -> str:
    """The secret key from the environment, or one generated once on disk."""
    value = os.environ.get(name)
    if value is not None:
        if len(value) < 32:
            raise SettingError(f"{name} is too short; use at least 32 characters.")
        return value

    if not key_file.exists():
        _write_new_key(key_file)
    value = key_file.read_text().strip()
    if len(value) < 32:
        raise SettingError(
            f"{key_file} holds no usable secret key; delete it to have a new one"
            f" made, or set {name}."
        )
    return value


def _write_new_key(key_file: Path) -> None:
    """Write a fresh key so that other processes see all of it or none.

    Several processes may start at once on a fresh install. The key is
    written to a private temporary file and then linked into place, which
    fails if another process got there first; every process then reads the
    one key on disk.
    """
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=".key-")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        os.link(temporary, key_file)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


def env_int(name: str, default: int, minimum: int = 0, maximum: int = 10**6) -> int:
    """A whole number from `minimum` to `maximum`."""
    raw = os.environ.get(name)
    if raw is None:
        return default

    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise SettingError(f"{name}={raw!r} must be {minimum} or more.")
    if value > maximum:
        raise SettingError(f"{name}={raw!r} must be {maximum} or less.")
    return value


def env_site_url(name: str, default: str) -> str:
    """The address people reach the app at, used for links in messages."""
    value = os.environ.get(name, default).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingError(
            f"{name}={value!r} must be the app's address, like https://okr.example.com."
        )
    if parts.path or parts.query or parts.fragment:
        raise SettingError(
            f"{name}={value!r} must be only scheme and host, like "
            "https://okr.example.com, with nothing after the host."
        )
    return value


def env_chat_urls(name: str) -> list[str]:
    """Comma-separated chat addresses (Slack, Teams...) apprise can use."""
    if os.environ.get(name) is None:
        return []

    urls = env_list(name, [])
    import apprise  # only needed when chat is configured

    for url in urls:
        if apprise.Apprise.instantiate(url) is None:
            # Only a real scheme is named: the rest may hold a webhook secret.
            scheme, found, _ = url.partition("://")
            start = f" starting {scheme}://" if found and scheme.isalnum() else ""
            raise SettingError(
                f"{name} has an entry{start} that is not a chat address we "
                "can use; see the README for Slack and Teams examples."
            )
    return urls


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


def env_mailer(name: str, default_folder: Path) -> dict[str, Any]:
    """Django's MAILERS entry: the backend in `name` with its options.

    SMTP reads EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD
    and EMAIL_USE_TLS; the file backend (the default, so a fresh install
    keeps what it would have sent) writes to EMAIL_FILE_PATH.
    """
    backend = env_import_path(name, FILE_BACKEND)
    options: dict[str, Any] = {}
    if backend == SMTP_BACKEND:
        options = {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 25, minimum=1, maximum=65535),
            "username": env_str("EMAIL_HOST_USER", ""),
            "password": env_str("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
            "timeout": 30,
        }
    elif backend == FILE_BACKEND:
        options = {"file_path": str(env_var_dir("EMAIL_FILE_PATH", default_folder))}
    return {"BACKEND": backend, "OPTIONS": options}


# How long a read from Redis may take: longer than channels_redis's waits.
REDIS_READ_SECONDS = 30


def env_channel_layers(name: str) -> dict[str, Any]:
    """Django Channels' layer: in-process by default, Redis when `name` is set.

    The in-process layer reaches only the process it runs in; with several
    app processes behind a proxy, set REDIS_URL so they share live updates.
    """
    url = os.environ.get(name, "").strip()
    if not url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix") or not (
        parts.netloc or parts.path
    ):
        raise SettingError(
            f"{name} must be a Redis address like redis://127.0.0.1:6379/0."
        )
    # channels_redis waits up to 5 s at a time for a connection's next
    # message; redis-py gives up on a read after 5 s unless told otherwise,
    # which would drop every connection that is quiet for that long.
    host = {"address": url, "socket_timeout": REDIS_READ_SECONDS}
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [host], "prefix": "creditokr"},
        }
    }
