"""Django settings for Jiuzhu.

Environment:
- ``DATABASE_URL``: a database URL (PostgreSQL in production); without it, a SQLite
  file at ``var/jiuzhu.sqlite3`` in the repository, in WAL mode.
- ``JIUZHU_SECRET_KEY``: required in production; a development key otherwise.
- ``JIUZHU_DEBUG``: ``1`` (default, for the development server) or ``0``.
- ``JIUZHU_ALLOWED_HOSTS``: comma-separated host names, used when debug is off.
"""

import os
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent

SECRET_KEY = os.environ.get("JIUZHU_SECRET_KEY", "django-insecure-jiuzhu-development-only")
DEBUG = os.environ.get("JIUZHU_DEBUG", "1") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("JIUZHU_ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "template_partials",
    "ninja",
    "jiuzhu.areas",
    "jiuzhu.accounts",
    "jiuzhu.registry",
    "jiuzhu.casework",
    "jiuzhu.verification",
    "jiuzhu.api",
    "jiuzhu.portal",
]

AUTH_USER_MODEL = "accounts.User"
# Argon2 first: new and changed passwords are hashed with it; older hashes still verify.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# django-axes: five failed logins lock the username from that address for 30 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("JIUZHU_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# A working day; closing the browser ends the session too.
SESSION_COOKIE_AGE = int(os.environ.get("JIUZHU_SESSION_SECONDS", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "casework:queue"
OTP_TOTP_ISSUER = "Jiuzhu"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jiuzhu.urls"
WSGI_APPLICATION = "jiuzhu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jiuzhu.accounts.context_processors.staff_nav",
            ],
        },
    },
]

if "DATABASE_URL" in os.environ:
    DATABASES = {"default": dj_database_url.config(conn_max_age=60, conn_health_checks=True)}
else:
    SQLITE_PATH = BASE_DIR / "var" / "jiuzhu.sqlite3"
    SQLITE_PATH.parent.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                # WAL lets the web process read while a background task writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese first; each language is named in itself so the switch reads right in both.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("JIUZHU_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# DCI social-registry exchange (jiuzhu/api/dci): our signing key (made on first use, mode 0600),
# the sender id partners know us by, and how far apart two clocks may be before a message is stale.
DCI_PRIVATE_KEY_PATH = Path(os.environ.get("JIUZHU_DCI_PRIVATE_KEY", str(BASE_DIR / "var" / "dci_ed25519.pem")))
DCI_SENDER_ID = os.environ.get("JIUZHU_DCI_SENDER_ID", "jiuzhu")
DCI_MAX_CLOCK_SKEW_SECONDS = int(os.environ.get("JIUZHU_DCI_MAX_CLOCK_SKEW_SECONDS", "300"))
# How long answered messages and sent notifications are kept (`jiuzhu dci prune`).
DCI_MESSAGE_RETENTION_DAYS = int(os.environ.get("JIUZHU_DCI_MESSAGE_RETENTION_DAYS", "90"))
