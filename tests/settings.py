"""Settings for the test suite (the example project's catalog app is installed too)."""

from tests import postgres

SECRET_KEY = "tests"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "rest_framework.authtoken",
    "django_httpcache",
    "tests.testapp",
    "tests.shapes",
    "catalog",
]

MIDDLEWARE = [
    "django_httpcache.middleware.HttpCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"
# HTTPCACHE_TEST_DB=postgres (the second pass of `make test`): a PostgreSQL cluster the suite
# starts itself (tests/postgres.py), here, before pytest-django sets Django up.
DATABASES = {
    "default": postgres.suite_cluster().settings()
    if postgres.selected()
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth"]},
    }
]

HTTPCACHE = {
    "VERSION_FIELD": "version",
    "POLICIES": {
        "static": "public, max-age=31536000, immutable",
        "catalog": {
            "public": True,
            "max_age": 60,
            "s_maxage": 600,
            "stale_while_revalidate": 30,
            "stale_if_error": 86400,
        },
        "user": "private, no-cache",
        "sensitive": "no-store",
        "shared-anyway": {"public": True, "max_age": 30, "force_shared": True},
        "localized": {"public": True, "max_age": 300, "vary": ["Accept-Language"]},
    },
    "RULES": [
        {"path": r"^/rules/static/", "policy": "static"},
        {"name": "rules:by-name", "policy": "user"},
        {"view": "tests.testapp.views.rule_by_view", "policy": "sensitive"},
    ],
}
