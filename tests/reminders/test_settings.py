"""Email and chat settings from the environment."""

import pytest

from creditokr.core.env import (
    SettingError,
    env_chat_urls,
    env_int,
    env_mailer,
    env_site_url,
)

VAR = "CREDITOKR_TEST_SETTING"
SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture
def clean(monkeypatch):
    for name in (
        "EMAIL_BACKEND",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS",
        "EMAIL_FILE_PATH",
        VAR,
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_email_is_written_to_files_under_var_by_default(clean, tmp_path):
    mailer = env_mailer("EMAIL_BACKEND", tmp_path / "mail")

    assert mailer == {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(tmp_path / "mail")},
    }
    assert (tmp_path / "mail").is_dir()


def test_smtp_takes_its_options_from_the_email_variables(clean, tmp_path):
    clean.setenv("EMAIL_BACKEND", SMTP)
    clean.setenv("EMAIL_HOST", "mail.example.test")
    clean.setenv("EMAIL_PORT", "587")
    clean.setenv("EMAIL_HOST_USER", "okr")
    clean.setenv("EMAIL_HOST_PASSWORD", "secret")
    clean.setenv("EMAIL_USE_TLS", "1")

    mailer = env_mailer("EMAIL_BACKEND", tmp_path / "mail")

    assert mailer["BACKEND"] == SMTP
    assert mailer["OPTIONS"] == {
        "host": "mail.example.test",
        "port": 587,
        "username": "okr",
        "password": "secret",
        "use_tls": True,
        "timeout": 30,
    }
    assert not (tmp_path / "mail").exists()


def test_the_console_backend_needs_no_options(clean, tmp_path):
    clean.setenv("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

    assert env_mailer("EMAIL_BACKEND", tmp_path)["OPTIONS"] == {}


@pytest.mark.parametrize(
    ("raw", "problem"), [("twenty", "not a whole"), ("0", "1 or more")]
)
def test_a_bad_port_is_refused(clean, tmp_path, raw, problem):
    clean.setenv("EMAIL_BACKEND", SMTP)
    clean.setenv("EMAIL_PORT", raw)

    with pytest.raises(SettingError, match=f"EMAIL_PORT={raw!r} .*{problem}"):
        env_mailer("EMAIL_BACKEND", tmp_path)


def test_env_int_reads_whole_numbers(clean):
    clean.setenv(VAR, " 12 ")

    assert env_int(VAR, 6, minimum=1) == 12


@pytest.mark.parametrize(
    "raw", ["okr.example.com", "ftp://okr.example.com", "https://okr.example.com/app"]
)
def test_the_site_url_must_be_scheme_and_host(clean, raw):
    clean.setenv(VAR, raw)

    with pytest.raises(SettingError, match=VAR):
        env_site_url(VAR, "http://127.0.0.1:8000")


def test_the_site_url_loses_a_trailing_slash(clean):
    clean.setenv(VAR, "https://okr.example.com/")

    assert env_site_url(VAR, "") == "https://okr.example.com"


def test_chat_urls_are_checked_without_repeating_their_secrets(clean):
    clean.setenv(VAR, "json://127.0.0.1:9/hook, nonsense://secret-token")

    with pytest.raises(SettingError) as raised:
        env_chat_urls(VAR)

    assert "nonsense://" in str(raised.value)
    assert "secret-token" not in str(raised.value)


def test_no_chat_urls_means_no_chat(clean):
    assert env_chat_urls(VAR) == []
