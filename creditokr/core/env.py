"""Typed readers for the settings that come from environment variables.

Every reader names the variable in its error, so a bad value stops start-up
with a message the administrator can act on.
"""

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url


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


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = os.environ.get(name, default)
    if value not in choices:
        raise SettingError(f"{name}={value!r} is not one of {', '.join(choices)}.")
    return value


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


def env_database(name: str, default_sqlite: Path) -> dict[str, Any]:
    """Database settings from a URL, with SQLite tuned for a web app."""
    raw = os.environ.get(name)
    if raw is None:
        default_sqlite.parent.mkdir(parents=True, exist_ok=True)
        return sqlite_settings(default_sqlite)

    try:
        config: dict[str, Any] = dict(dj_database_url.parse(raw))
    except ValueError as error:
        raise SettingError(
            f"{name} is not a database URL we can use: {error}"
        ) from None

    engine = config.get("ENGINE")
    if engine not in (SQLITE, POSTGRESQL):
        raise SettingError(
            f"{name} names a database engine we do not support ({engine or 'none'});"
            " use postgres://... or sqlite:////path/to/file.db."
        )

    if engine == SQLITE:
        if config["NAME"] in ("", ":memory:"):
            raise SettingError(f"{name} needs a file path for SQLite, not memory.")
        return sqlite_settings(Path(config["NAME"]))
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
