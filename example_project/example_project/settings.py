"""Settings of the django-httpcache example project.

Switches (environment variables):
- DJANGO_DEBUG=1                       debug mode (off by default, as served by `make demo`)
- EXAMPLE_DB_PATH=/path/db.sqlite3     where the SQLite database lives
- EXAMPLE_DATABASE_URL=postgres://user:password@host:5432/name
                                       PostgreSQL instead of SQLite (driver psycopg)
- HTTPCACHE_VERSION_MODE=aggregate     collection validators from one aggregate query (default)
- HTTPCACHE_VERSION_MODE=counter       ... from per-model counters in the version store (no query)
- HTTPCACHE_REDIS_URL=redis://host/0   put the version store on Redis; without it the store
                                       is a file-based cache, shared by the workers of one machine
- EXAMPLE_CACHE_DIR=/path              where that file-based store lives
- EXAMPLE_FAST_PASSWORDS=1             a fast password hasher, for load tests only
- EXAMPLE_CATALOG_MAX_AGE=2            a shorter browser lifetime for the catalog, for tests
                                       that watch clients revalidate (default 60)
- HTTPCACHE_PURGE=varnish               behind Varnish (`make demo-cdn`, deploy/varnish.vcl):
                                       xkey surrogate keys on catalog responses, a day's CDN
                                       lifetime (CDN-Cache-Control), purges after every commit
- HTTPCACHE_VARNISH_URL=http://127.0.0.1:8080
                                       where that Varnish listens for purges (the default)
- HTTPCACHE_RESPONSE_STORE=0          no response store: the catalog (API and HTML list and
                                       detail) renders every 200 (default 1: a 200 of a version
                                       already rendered comes from the store, on Redis with
                                       HTTPCACHE_REDIS_URL, else in each worker's memory)
- PROMETHEUS_MULTIPROC_DIR=/path       where gunicorn's workers write their metrics (gunicorn.conf.py
                                       makes a temporary one when unset); /metrics adds them up
With DJANGO_DEBUG=1 and django-debug-toolbar installed, the toolbar (and its HTTP cache
panel) shows on HTML pages for requests from 127.0.0.1.

Languages: English (the default) and French, chosen per request from Accept-Language by
LocaleMiddleware; every response says which (Content-Language, Vary: Accept-Language).
"""

import os
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import unquote, urlsplit

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
    "rest_framework",
    "django_httpcache",
    "catalog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # After GZipMiddleware (if any), before anything that sets cookies.
    "django_httpcache.middleware.HttpCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After SessionMiddleware (Django's rule), before CommonMiddleware: the language of
    # every response (Content-Language, Vary: Accept-Language) from Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
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

DATABASE_URL = urlsplit(os.environ.get("EXAMPLE_DATABASE_URL", ""))
if DATABASE_URL.scheme in ("postgres", "postgresql"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(DATABASE_URL.path.lstrip("/")),
            "USER": unquote(DATABASE_URL.username or ""),
            "PASSWORD": unquote(DATABASE_URL.password or ""),
            "HOST": DATABASE_URL.hostname or "",
            "PORT": str(DATABASE_URL.port or ""),
            "CONN_MAX_AGE": None,  # keep the connection: opening one costs more than a query
        }
    }
elif DATABASE_URL.scheme:
    raise ValueError(f"EXAMPLE_DATABASE_URL: only postgres:// URLs are supported, not {DATABASE_URL.scheme}://")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("EXAMPLE_DB_PATH", str(BASE_DIR / "db.sqlite3")),
            "CONN_MAX_AGE": None,  # keep the connection: opening one costs more than a query
            "OPTIONS": {
                # Writers take the lock when the transaction starts, so a precondition
                # check and the write it guards cannot interleave with another writer.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

AUTH_PASSWORD_VALIDATORS = []
if os.environ.get("EXAMPLE_FAST_PASSWORDS") == "1":
    # Load tests authenticate every request with Basic auth: a slow hasher would be all
    # they measure. Never for real passwords.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# English by default; French for Accept-Language: fr (catalog/locale, Product.name_fr).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}

# The version store must be shared by every worker process (never LocMemCache outside
# DEBUG: manage.py check says httpcache.E020). Aggregate mode, the default, needs none.
REDIS_URL = os.environ.get("HTTPCACHE_REDIS_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "versions": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Fail fast when Redis is down: validators fall back to aggregate mode.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("EXAMPLE_CACHE_DIR", str(BASE_DIR / ".versions-cache")),
        }
    ),
}
# The response store (docs/response-store.md): an entry is never stale, so a per-process
# cache is correct too, only memory-bound.
CACHES["responses"] = (
    {**CACHES["versions"], "KEY_PREFIX": "responses"}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "responses"}
)
RESPONSE_STORE = os.environ.get("HTTPCACHE_RESPONSE_STORE", "1") != "0"
if os.environ.get("EXAMPLE_VERSION_BACKEND") == "locmem":
    # A misconfiguration kept for the tests: refused by manage.py check and at run time.
    CACHES["versions"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}

HTTPCACHE = {
    "VERSION_MODE": os.environ.get("HTTPCACHE_VERSION_MODE", "aggregate"),
    "VERSION_CACHE": "versions",
    "RESPONSE_STORE": {"CACHE": "responses", "MAX_ENTRY_BYTES": 2_000_000},
    # Product.version: moved by every write, so it is part of every product's ETag.
    "VERSION_FIELD": "version",
    "POLICIES": {
        # Fingerprinted assets: cache for a year, never revalidate (RFC 8246).
        "static": "public, max-age=31536000, immutable",
        # Shared catalog behind a CDN: browsers 1 min, CDN 10 min, serve stale while
        # revalidating for 30 s and for a day if the origin is down (RFC 5861).
        "catalog": {
            "public": True,
            "max_age": int(os.environ.get("EXAMPLE_CATALOG_MAX_AGE", "60")),
            "s_maxage": 600,
            "stale_while_revalidate": 30,
            "stale_if_error": 86400,
            # Each language is its own representation (LocaleMiddleware): caches keep
            # them apart, and the header's value is part of every tag.
            "vary": ["Accept-Language"],
            # A 200 of a version already rendered comes from the response store.
            "store": RESPONSE_STORE,
        },
        # Per-user pages: browser only, revalidate every time.
        "user": "private, no-cache",
        # Never stored anywhere.
        "sensitive": "no-store",
    },
    # Counters for Prometheus, scraped from /metrics (loopback only), when installed.
    "METRICS": find_spec("prometheus_client") is not None,
    "RULES": [
        {"path": r"^/static/", "policy": "static"},
        {"name": "health", "policy": "sensitive"},
        {"name": "api:category-list", "policy": "catalog"},
    ],
}
if os.environ.get("HTTPCACHE_PURGE") == "varnish":
    # Varnish keeps the catalog for a day: every commit purges what it changed (docs/cdn.md).
    HTTPCACHE["CDN"] = {
        "BACKEND": "varnish",
        "OPTIONS": {"url": os.environ.get("HTTPCACHE_VARNISH_URL", "http://127.0.0.1:8080")},
    }
    # /api/categories/ has no model validators, so no surrogate keys and no purge reaches
    # it: it keeps the catalog's lifetimes without the day (manage.py httpcache_report).
    HTTPCACHE["POLICIES"]["catalog-ttl"] = dict(HTTPCACHE["POLICIES"]["catalog"])
    HTTPCACHE["RULES"] = [
        {**rule, "policy": "catalog-ttl"} if rule.get("name") == "api:category-list" else rule
        for rule in HTTPCACHE["RULES"]
    ]
    HTTPCACHE["POLICIES"]["catalog"]["cdn"] = {"max_age": 86400, "stale_while_revalidate": 60}

# The debug toolbar with the HTTP cache panel (docs/observe.md), in debug mode only.
TOOLBAR = DEBUG and find_spec("debug_toolbar") is not None
if TOOLBAR:
    INSTALLED_APPS.append("debug_toolbar")
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1", "::1"]
    DEBUG_TOOLBAR_PANELS = [
        "debug_toolbar.panels.history.HistoryPanel",
        "debug_toolbar.panels.timer.TimerPanel",
        "debug_toolbar.panels.headers.HeadersPanel",
        "debug_toolbar.panels.request.RequestPanel",
        "debug_toolbar.panels.sql.SQLPanel",
        "debug_toolbar.panels.templates.TemplatesPanel",
        "debug_toolbar.panels.cache.CachePanel",
        "django_httpcache.contrib.debug_toolbar.HttpCachePanel",
    ]
    # The toolbar's own assets are not fingerprinted: not the year-long "static" policy.
    HTTPCACHE["RULES"].insert(0, {"path": r"^/static/debug_toolbar/", "policy": "sensitive"})

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_httpcache": {"handlers": ["console"], "level": "WARNING"}},
}
