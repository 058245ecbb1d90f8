"""Settings for aiidasite, every value read from the environment.

With nothing set, the site runs on embedded defaults: a SQLite file and a
disk-objectstore container, both under ``./data``.

Environment variables:
    DATABASE_URL               database, e.g. ``postgres://user:pw@host:5432/name``
    AIIDASITE_DATA_DIR         folder for the default SQLite file and repository
    AIIDASITE_REPOSITORY_PATH  folder of the disk-objectstore container
    AIIDASITE_QUERY_MAX_ROWS, AIIDASITE_QUERY_TIMEOUT_MS  limits of the query API
    AIIDASITE_ARCHIVE_MAX_METADATA_MIB, AIIDASITE_ARCHIVE_MAX_DATABASE_MIB,
    AIIDASITE_ARCHIVE_MAX_RATIO  size limits of imported archives
    AIIDASITE_TMP_DIR          folder of temporary files (system default)
    SECRET_KEY, DEBUG, ALLOWED_HOSTS, TIME_ZONE, and the HTTPS switches below
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be an integer, got {value!r}"
        ) from None


def env_rate(name: str, default: str) -> str | None:
    """A DRF rate such as ``10/minute``; ``None`` (unlimited) when empty."""
    value = env_str(name, default).strip()
    if not value:
        return None
    if not re.fullmatch(r"\d+/(s|m|h|d)[a-z]*", value):
        raise ImproperlyConfigured(
            f"{name} must be a rate like 10/minute or 100/hour, got {value!r}"
        )
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DATA_DIR = Path(env_str("AIIDASITE_DATA_DIR", str(BASE_DIR / "data"))).resolve()


def stored_secret_key(path: Path) -> str:
    """The key kept in ``path``, made once with 0600 rights when it is missing.

    Every process of one site (gunicorn's workers, commands) reads the same
    key, and no two sites share one.

    :raises ImproperlyConfigured: if the file can be neither read nor made.
    """
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".{path.name}.{os.getpid()}")
            descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
            try:
                # A link, unlike a rename, never replaces a key another
                # process made meanwhile.
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        key = path.read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"SECRET_KEY is not set and {path} cannot be used ({exc.strerror}); "
            "set SECRET_KEY"
        ) from None
    if len(key) < 50:
        raise ImproperlyConfigured(
            f"{path} holds no usable key; delete it or set SECRET_KEY"
        )
    return key


# Off unless asked: with DEBUG on, every error is a page showing the settings.
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", "") or stored_secret_key(DATA_DIR / "secret_key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# HTTPS: off by default so the site runs on plain HTTP on a laptop; a site
# served over HTTPS turns each on (README, "Production"). Behind a proxy that
# ends TLS, SECURE_PROXY_SSL_HEADER names its header, e.g. X-Forwarded-Proto.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
if proxy_header := env_str("SECURE_PROXY_SSL_HEADER", ""):
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + proxy_header.upper().replace("-", "_"),
        "https",
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "aiidasite",
    "settingsapp",
    "repository",
    "users",
    "computers",
    "nodes",
    "comments",
    "logs",
    "queries",
    "archives",
    "pictures",
    "processes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves collectstatic's files under gunicorn, where DEBUG is off.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "aiidasite.uploads.RequestSizeMiddleware",
    "settingsapp.middleware.SchemaVersionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, serving API paths that lack their trailing slash.
    "aiidasite.slashes.APISlashMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "aiidasite.parameters.UnknownParametersMiddleware",
    # Last: the limit covers the view's work, not the checks before it.
    "aiidasite.timeouts.RequestTimeoutMiddleware",
]

ROOT_URLCONF = "aiidasite.urls"

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

WSGI_APPLICATION = "aiidasite.wsgi.application"
ASGI_APPLICATION = "aiidasite.asgi.application"

# Connections outlive a request (CONN_MAX_AGE seconds, 0: one per request):
# opening one costs about as much as answering a small API request, and
# SQLite's page cache (below) lives and dies with its connection. Each is
# checked before a request reuses it, so a restarted server is reconnected.
# An empty DATABASE_URL is no URL at all: the default SQLite file. Lower
# case, so the URL (and its password) is no setting shown on error pages.
_database_url = env_str("DATABASE_URL", "").strip() or (
    f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
)
try:
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url,
            conn_max_age=env_int("CONN_MAX_AGE", 600),
            conn_health_checks=True,
        )
    }
except ValueError:  # dj_database_url.UnknownSchemeError among them
    DATABASES = {"default": {}}
if "ENGINE" not in DATABASES["default"]:
    # The message names the scheme only: the URL may hold a password.
    _scheme = _database_url.partition("://")[0] if "://" in _database_url else ""
    raise ImproperlyConfigured(
        "DATABASE_URL is not a database URL "
        f"({f'unknown scheme {_scheme!r}' if _scheme else 'no scheme'}): give one "
        "such as postgres://user:pw@host:5432/name or sqlite:////path/to/db.sqlite3"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if not os.environ.get("DATABASE_URL"):
        DATA_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets readers (the API, SQLAlchemy queries) run beside one writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            # A page cache beyond SQLite's 2 MiB default keeps the node and
            # link indexes in memory once the graph reaches 10^5 nodes:
            # deleting 50,000 nodes then runs a fifth faster.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA cache_size=-"
            + str(1024 * env_int("AIIDASITE_SQLITE_CACHE_MIB", 64))
            + ";",
            # Take the write lock at BEGIN so two writers queue instead of one
            # failing with "database is locked" when it upgrades its lock.
            "transaction_mode": "IMMEDIATE",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AIIDASITE_REPOSITORY_PATH = Path(
    env_str("AIIDASITE_REPOSITORY_PATH", str(DATA_DIR / "repository"))
).resolve()

# The storage backend, chosen by dotted path as Django's STORAGES are.
AIIDASITE_REPOSITORY = {
    "BACKEND": "repository.backends.DiskObjectStoreRepositoryBackend",
    "OPTIONS": {"folder": str(AIIDASITE_REPOSITORY_PATH)},
}

# Archives downloaded by anonymous clients carry users with placeholder
# e-mails and no names (AiiDA's own exports carry both).
AIIDASITE_HIDE_EMAILS_FROM_ANONYMOUS = env_bool(
    "AIIDASITE_HIDE_EMAILS_FROM_ANONYMOUS", True
)

# Largest request body and largest uploaded file, in MiB (aiidasite.uploads).
AIIDASITE_UPLOAD_MAX_REQUEST_BYTES = (
    env_int("AIIDASITE_UPLOAD_MAX_REQUEST_MIB", 1024) * 1024 * 1024
)
AIIDASITE_UPLOAD_MAX_FILE_BYTES = (
    env_int("AIIDASITE_UPLOAD_MAX_FILE_MIB", 1024) * 1024 * 1024
)
FILE_UPLOAD_HANDLERS = [
    "aiidasite.uploads.FileSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Row cap and per-statement time limit of POST /api/v1/querybuilder/.
AIIDASITE_QUERY_MAX_ROWS = env_int("AIIDASITE_QUERY_MAX_ROWS", 10_000)
AIIDASITE_QUERY_TIMEOUT_MS = env_int("AIIDASITE_QUERY_TIMEOUT_MS", 30_000)
# Every API request's database work stops after this long (0: no limit).
AIIDASITE_REQUEST_TIMEOUT_MS = env_int("AIIDASITE_REQUEST_TIMEOUT_MS", 30_000)
# The query routes only read; like every read they are open unless this is set.
AIIDASITE_QUERY_REQUIRES_LOGIN = env_bool("AIIDASITE_QUERY_REQUIRES_LOGIN", False)

# Archives: the largest metadata.json and db.sqlite3 read (MiB), and how many
# times a member may expand when decompressed (larger ones are zip bombs).
AIIDASITE_ARCHIVE_MAX_METADATA_MIB = env_int("AIIDASITE_ARCHIVE_MAX_METADATA_MIB", 16)
AIIDASITE_ARCHIVE_MAX_DATABASE_MIB = env_int(
    "AIIDASITE_ARCHIVE_MAX_DATABASE_MIB", 16_384
)
AIIDASITE_ARCHIVE_MAX_RATIO = env_int("AIIDASITE_ARCHIVE_MAX_RATIO", 200)
# Where temporary folders go (an extracted db.sqlite3 needs its full size).
AIIDASITE_TMP_DIR = env_str("AIIDASITE_TMP_DIR", "") or None

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "aiidasite.throttling.ThrottledBasicAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "aiidasite.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # They refuse body keys a route does not document (aiidasite.parameters).
    "DEFAULT_PARSER_CLASSES": [
        "aiidasite.parameters.JSONParser",
        "aiidasite.parameters.FormParser",
        "aiidasite.parameters.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "aiidasite.throttling.AnonRateThrottle",
        "aiidasite.throttling.UserRateThrottle",
    ],
    # DRF's rates ("10/minute"); empty means unlimited. "login" counts failed
    # password checks per client address: Basic auth makes each guess cost
    # the server a key stretching (about 0.25 s of CPU).
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("AIIDASITE_THROTTLE_ANON", ""),
        "user": env_rate("AIIDASITE_THROTTLE_USER", ""),
        "login": env_rate("AIIDASITE_THROTTLE_LOGIN", "10/minute"),
    },
    "DEFAULT_PAGINATION_CLASS": "aiidasite.api.StandardPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": [
        "aiidasite.filtering.FilterBackend",
        "aiidasite.pagination.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "aiidasite.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "aiidasite.api.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "aiidasite API",
    "DESCRIPTION": "Nodes, links, groups, files and queries of a provenance graph.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from the sidecar package so the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
