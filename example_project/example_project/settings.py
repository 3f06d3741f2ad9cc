"""Settings of the django-httpcache example project.

Switches (environment variables):
- DJANGO_DEBUG=1                    debug mode (off by default, as served by `make demo`)
- EXAMPLE_DB_PATH=/path/db.sqlite3  where the SQLite database lives
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-project-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") in ("1", "true", "True")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_httpcache",
    "catalog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # After GZipMiddleware (if any), before anything that sets cookies.
    "django_httpcache.middleware.HttpCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DB_PATH", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": {
            # Writers take the lock when the transaction starts, so a precondition
            # check and the write it guards cannot interleave with another writer.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
}

AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

HTTPCACHE = {
    "POLICIES": {
        # Fingerprinted assets: cache for a year, never revalidate (RFC 8246).
        "static": "public, max-age=31536000, immutable",
        # Shared catalog behind a CDN: browsers 1 min, CDN 10 min, serve stale while
        # revalidating for 30 s and for a day if the origin is down (RFC 5861).
        "catalog": {
            "public": True,
            "max_age": 60,
            "s_maxage": 600,
            "stale_while_revalidate": 30,
            "stale_if_error": 86400,
        },
        # Per-user pages: browser only, revalidate every time.
        "user": "private, no-cache",
        # Never stored anywhere.
        "sensitive": "no-store",
    },
    "RULES": [
        {"path": r"^/static/", "policy": "static"},
        {"name": "health", "policy": "sensitive"},
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_httpcache": {"handlers": ["console"], "level": "WARNING"}},
}
