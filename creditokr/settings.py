"""Django settings for CreditOKR.

Everything an administrator may change comes from an environment variable;
a fresh checkout runs with none set (SQLite under var/, email
written to files under var/mail/).
"""

import sys
from pathlib import Path

import django_stubs_ext

from creditokr.core.env import (
    SettingError,
    env_bool,
    env_channel_layers,
    env_chat_urls,
    env_choice,
    env_database,
    env_int,
    env_list,
    env_mailer,
    env_origins,
    env_secret_key,
    env_site_url,
    env_str,
    env_time_zone,
    env_var_dir,
)

# Lets classes such as ModelForm[User] be subscripted at run time, as the
# type checker sees them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

try:
    VAR_DIR = env_var_dir("CREDITOKR_VAR_DIR", BASE_DIR.parent / "var")
    SECRET_KEY = env_secret_key("SECRET_KEY", VAR_DIR / "secret_key")
    CREDENTIALS_KEY = env_secret_key("CREDENTIALS_KEY", VAR_DIR / "credentials_key")
    CREDIT_DATA_DIR = env_var_dir("CREDIT_DATA_DIR", VAR_DIR / "credit-data")
    # SQL sources may only open SQLite files inside this folder; unset,
    # SQLite sources are turned off.
    CREDIT_DATA_SQLITE_DIR = env_str("CREDIT_DATA_SQLITE_DIR", "") or None
    DEBUG = env_bool("DEBUG", False)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
    TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
    DATABASES = {"default": env_database("DATABASE_URL", VAR_DIR / "creditokr.db")}
    CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS", [])
    SECURE_COOKIES = env_bool("SECURE_COOKIES", False)
    LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", LOG_LEVELS)
    MAILERS = {"default": env_mailer("EMAIL_BACKEND", VAR_DIR / "mail")}
    DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "creditokr@localhost")
    SITE_URL = env_site_url("SITE_URL", "http://127.0.0.1:8000")
    CHAT_URLS = env_chat_urls("CHAT_URLS")
    REMINDER_LATE_CUTOFF_HOURS = env_int(
        "REMINDER_LATE_CUTOFF_HOURS", 6, minimum=1, maximum=24 * 31
    )
    REMINDER_LEASE_SECONDS = env_int(
        "REMINDER_LEASE_SECONDS", 600, minimum=1, maximum=24 * 3600
    )
    CHANNEL_LAYERS = env_channel_layers("REDIS_URL")
except SettingError as error:
    sys.exit(f"CreditOKR cannot start: {error}")

USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en-gb"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "auditlog",
    "creditokr.core",
    "creditokr.accounts",
    "creditokr.cycles",
    "creditokr.okrs",
    "creditokr.creditdata",
    "creditokr.reminders",
    "creditokr.calendars",
    "creditokr.activity",
    "creditokr.collab",
    "creditokr.live",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "creditokr.accounts.middleware.ViewerTimeZoneMiddleware",
]

ROOT_URLCONF = "creditokr.urls"
ASGI_APPLICATION = "creditokr.asgi.application"

# The change history is written by django-auditlog into our own model.
AUDITLOG_LOGENTRY_MODEL = "activity.ChangeRecord"
# auditlog's own migrations would create its default log table, unused here
# and in the way of a database flush; its models are swapped for ours.
MIGRATION_MODULES = {"auditlog": None}
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
                "creditokr.core.context_processors.organisation",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Refused and missing pages are everyday events, not faults: only server
    # errors from request handling are logged (with their traceback).
    "loggers": {"django.request": {"level": "ERROR"}},
}
