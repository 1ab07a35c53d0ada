"""Settings from environment variables: good values read, bad ones stop us.

The readers are tested in-process; start-up itself is tested in a fresh
Python process, since a bad setting must end the process with a message that
names the variable (and no traceback) before Django does anything else.
"""

import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from creditokr.core import env
from creditokr.core.env import (
    SettingError,
    env_bool,
    env_database,
    env_import_path,
    env_list,
    env_origins,
    env_secret_key,
    env_str,
    env_time_zone,
)

VAR = "CREDITOKR_TEST_SETTING"
GOOD_KEY = "k" * 32

# Every variable settings.py reads, so a start-up test sees only its own.
OUR_VARIABLES = {
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "TIME_ZONE",
    "DATABASE_URL",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_COOKIES",
    "EMAIL_BACKEND",
    "LOG_LEVEL",
    "CREDITOKR_VAR_DIR",
}


@pytest.fixture
def unset(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)


@pytest.fixture
def set_to(monkeypatch):
    def set_value(value: str) -> None:
        monkeypatch.setenv(VAR, value)

    return set_value


# --- env_str --------------------------------------------------------------


def test_env_str_reads_the_value_or_the_default(unset, set_to):
    assert env_str(VAR, "fallback") == "fallback"

    set_to("console")

    assert env_str(VAR, "fallback") == "console"


# --- env_bool -------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "True", "YES", "on", " on "])
def test_env_bool_reads_yes(set_to, raw):
    set_to(raw)

    assert env_bool(VAR, False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "OFF", "", "  "])
def test_env_bool_reads_no(set_to, raw):
    set_to(raw)

    assert env_bool(VAR, True) is False


def test_env_bool_falls_back_to_its_default(unset):
    assert env_bool(VAR, True) is True
    assert env_bool(VAR, False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "y"])
def test_env_bool_refuses_anything_else_naming_the_variable(set_to, raw):
    set_to(raw)

    with pytest.raises(SettingError, match=f"^{VAR}='{raw}' is not a yes/no value"):
        env_bool(VAR, False)


# --- env_list -------------------------------------------------------------


def test_env_list_splits_on_commas_and_drops_blanks(set_to):
    set_to(" okr.example.com, 10.0.0.5 ,,")

    assert env_list(VAR, []) == ["okr.example.com", "10.0.0.5"]


def test_env_list_falls_back_to_its_default(unset):
    assert env_list(VAR, ["localhost"]) == ["localhost"]


@pytest.mark.parametrize("raw", ["", " ", ", ,"])
def test_env_list_refuses_a_list_with_nothing_in_it(set_to, raw):
    set_to(raw)

    with pytest.raises(SettingError, match=f"^{VAR} is set but empty"):
        env_list(VAR, ["localhost"])


# --- env_time_zone --------------------------------------------------------


@pytest.mark.parametrize("raw", ["Europe/London", "Pacific/Kiritimati", "UTC"])
def test_env_time_zone_accepts_iana_names(set_to, raw):
    set_to(raw)

    assert env_time_zone(VAR, "UTC") == raw


def test_env_time_zone_falls_back_to_its_default(unset):
    assert env_time_zone(VAR, "Europe/Paris") == "Europe/Paris"


@pytest.mark.parametrize(
    "raw", ["Mars/Olympus", "", "London", "America", "../etc/passwd", "/etc/localtime"]
)
def test_env_time_zone_refuses_what_is_not_a_zone(set_to, raw):
    set_to(raw)

    with pytest.raises(SettingError, match=f"^{VAR}=.* is not a known time zone"):
        env_time_zone(VAR, "UTC")


# --- env_database ---------------------------------------------------------


def test_no_database_url_means_sqlite_in_the_var_dir(unset, tmp_path):
    path = tmp_path / "var" / "creditokr.db"

    config = env_database(VAR, path)

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == path
    assert path.parent.is_dir()


def test_sqlite_is_set_up_for_concurrent_writers(tmp_path):
    config = env.sqlite_settings(tmp_path / "x.db")

    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "PRAGMA journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert "PRAGMA foreign_keys=ON" in config["OPTIONS"]["init_command"]


def test_a_sqlite_url_gets_the_same_tuning(set_to, tmp_path):
    set_to(f"sqlite:///{tmp_path}/okr.db")

    config = env_database(VAR, tmp_path / "unused.db")

    assert config == env.sqlite_settings(tmp_path / "okr.db")


def test_a_postgres_url_is_read_with_health_checks(set_to, tmp_path):
    set_to("postgres://okr:s3cret@db.internal:5433/creditokr")

    config = env_database(VAR, tmp_path / "unused.db")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == (
        "creditokr",
        "okr",
        "s3cret",
    )
    assert (config["HOST"], config["PORT"]) == ("db.internal", 5433)
    assert config["CONN_HEALTH_CHECKS"] is True
    # Served over ASGI, where Django advises against persistent connections.
    assert config["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("nonsense", "is not a database URL we can use"),
        ("foo://db/x", "is not a database URL we can use"),
        ("postgres://okr@db:notaport/x", "is not a database URL we can use"),
        ("", "is not a database URL we can use"),
        ("mysql://okr@db/creditokr", "names a database engine we do not support"),
        ("sqlite://", "needs a file path"),
        ("sqlite:///:memory:", "needs a file path"),
        ("postgres://", "names no database"),
        ("postgres://okr@db.internal:5432", "names no database"),
        ("postgresql://okr@db.internal/", "names no database"),
    ],
)
def test_a_database_url_we_cannot_use_is_refused(set_to, tmp_path, raw, problem):
    set_to(raw)

    with pytest.raises(SettingError, match=f"^{VAR} .*{problem}"):
        env_database(VAR, tmp_path / "unused.db")


@pytest.mark.parametrize(
    "raw", ["nonsense", "nonsense://db", "mysql://okr@db/creditokr", ""]
)
def test_a_refused_database_url_names_only_the_schemes_we_support(
    set_to, tmp_path, raw
):
    set_to(raw)

    with pytest.raises(SettingError) as refused:
        env_database(VAR, tmp_path / "unused.db")

    message = str(refused.value)
    assert "postgres://" in message
    assert "postgresql://" in message
    assert "sqlite:///" in message
    for unsupported in ("mysql", "oracle", "mssql", "cockroach", "redshift"):
        assert unsupported not in message


def test_a_refused_database_url_does_not_repeat_its_password(set_to, tmp_path):
    set_to("mysql://okr:s3cret@db/creditokr")

    with pytest.raises(SettingError) as refused:
        env_database(VAR, tmp_path / "unused.db")

    assert "s3cret" not in str(refused.value)


# --- env_origins ----------------------------------------------------------


def test_env_origins_reads_http_and_https_origins(set_to):
    set_to("https://okr.example.com, http://10.0.0.5:8000,https://*.example.com")

    assert env_origins(VAR, []) == [
        "https://okr.example.com",
        "http://10.0.0.5:8000",
        "https://*.example.com",
    ]


def test_env_origins_falls_back_to_its_default(unset):
    assert env_origins(VAR, []) == []


@pytest.mark.parametrize(
    "raw", ["okr.example.com", "https://okr.example.com,okr.example.com", "ftp://x"]
)
def test_an_origin_without_http_or_https_is_refused(set_to, raw):
    set_to(raw)

    with pytest.raises(SettingError, match=f"^{VAR} .*must start with https://"):
        env_origins(VAR, [])


@pytest.mark.parametrize("raw", ["https://", "http:///okr"])
def test_an_origin_without_a_host_is_refused(set_to, raw):
    set_to(raw)

    with pytest.raises(SettingError, match=f"^{VAR} .*names no host"):
        env_origins(VAR, [])


# --- env_import_path ------------------------------------------------------


def test_env_import_path_accepts_what_can_be_imported(set_to, unset):
    default = "django.core.mail.backends.console.EmailBackend"
    assert env_import_path(VAR, default) == default

    set_to("django.core.mail.backends.smtp.EmailBackend")

    assert env_import_path(VAR, default) == (
        "django.core.mail.backends.smtp.EmailBackend"
    )


@pytest.mark.parametrize(
    "raw",
    [
        "smtp",
        "",
        "no.such.module.EmailBackend",
        "django.core.mail.backends.smtp.NoSuchBackend",
    ],
)
def test_env_import_path_refuses_what_cannot_be_imported(set_to, raw):
    set_to(raw)

    with pytest.raises(SettingError, match=f"^{VAR}=.* cannot be imported"):
        env_import_path(VAR, "django.core.mail.backends.console.EmailBackend")


# --- env_secret_key -------------------------------------------------------


def test_a_secret_key_from_the_environment_is_used(set_to, tmp_path):
    set_to(GOOD_KEY)

    assert env_secret_key(VAR, tmp_path / "secret_key") == GOOD_KEY
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("raw", ["", "short", "k" * 31])
def test_a_short_secret_key_is_refused(set_to, tmp_path, raw):
    set_to(raw)

    with pytest.raises(SettingError, match=f"^{VAR} is too short"):
        env_secret_key(VAR, tmp_path / "secret_key")


def test_a_secret_key_is_generated_once_readable_only_by_us(unset, tmp_path):
    key_file = tmp_path / "var" / "secret_key"

    first = env_secret_key(VAR, key_file)
    second = env_secret_key(VAR, key_file)

    assert len(first) >= 50
    assert second == first
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]


def test_a_key_written_by_another_process_meanwhile_wins(unset, tmp_path, monkeypatch):
    # Two processes start on a fresh install: the other one writes its key
    # between our check for the file and our write. Both must end up with
    # the same key, or sessions signed by one are rejected by the other.
    key_file = tmp_path / "secret_key"
    theirs = "t" * 60

    def generate_while_another_process_writes(nbytes: int) -> str:
        key_file.write_text(theirs)
        return "o" * 60

    monkeypatch.setattr(secrets, "token_urlsafe", generate_while_another_process_writes)

    assert env_secret_key(VAR, key_file) == theirs
    assert key_file.read_text() == theirs


def test_an_empty_key_file_stops_start_up(unset, tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("\n")

    with pytest.raises(
        SettingError, match=f"{re.escape(str(key_file))} holds no usable"
    ):
        env_secret_key(VAR, key_file)


# --- start-up -------------------------------------------------------------


def start(tmp_path: Path, *command: str, **variables: str):
    environment = {k: v for k, v in os.environ.items() if k not in OUR_VARIABLES}
    environment |= {
        "DJANGO_SETTINGS_MODULE": "creditokr.settings",
        "CREDITOKR_VAR_DIR": str(tmp_path / "var"),
        **variables,
    }
    argv = list(command) or ["-c", "import django; django.setup()"]
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *argv],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "nonsense://db"),
        ("DATABASE_URL", "mysql://okr@db/creditokr"),
        ("DATABASE_URL", "nonsense"),
        ("DATABASE_URL", "postgres://"),
        ("CSRF_TRUSTED_ORIGINS", "okr.example.com"),
        ("EMAIL_BACKEND", "no.such.EmailBackend"),
        ("DEBUG", "maybe"),
        ("TIME_ZONE", "Mars/Olympus"),
        ("TIME_ZONE", "America"),
        ("ALLOWED_HOSTS", " , "),
        ("SECRET_KEY", "too-short"),
        ("CSRF_TRUSTED_ORIGINS", ""),
        ("SECURE_COOKIES", "maybe"),
        ("LOG_LEVEL", "LOUD"),
        ("DATABASE_URL", "sqlite:////no/such/folder/creditokr.db"),
        ("CREDITOKR_VAR_DIR", "/proc/no-such-folder/var"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(tmp_path, variable, value):
    result = start(tmp_path, **{variable: value})

    assert result.returncode != 0
    assert result.stderr.startswith(f"CreditOKR cannot start: {variable}")
    assert "Traceback" not in result.stderr


def test_a_fresh_install_starts_with_no_settings_at_all(tmp_path):
    result = start(tmp_path, "-m", "creditokr", "check")

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    key_file = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text()

    again = start(tmp_path, "-m", "creditokr", "check")

    assert again.returncode == 0, again.stderr
    assert key_file.read_text() == key


def test_the_creditokr_command_refuses_a_bad_setting_too(tmp_path):
    result = start(tmp_path, "-m", "creditokr", "check", DEBUG="sometimes")

    assert result.returncode != 0
    assert "DEBUG='sometimes' is not a yes/no value" in result.stderr


def test_the_log_level_may_be_given_in_any_case(tmp_path):
    result = start(tmp_path, LOG_LEVEL="debug")

    assert result.returncode == 0, result.stderr


def test_a_bad_chat_address_is_refused_without_repeating_it(monkeypatch):
    from creditokr.core.env import SettingError, env_chat_urls

    secret = "hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"
    monkeypatch.setenv("CHAT_URLS", secret)

    with pytest.raises(SettingError) as refused:
        env_chat_urls("CHAT_URLS")

    assert "SECRET" not in str(refused.value)
    assert "not a chat address" in str(refused.value)


def test_whole_numbers_have_an_upper_bound(monkeypatch):
    from creditokr.core.env import SettingError, env_int

    monkeypatch.setenv("EMAIL_PORT", "99999")

    with pytest.raises(SettingError, match="must be 65535 or less"):
        env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
