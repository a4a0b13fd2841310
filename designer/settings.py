"""Settings, all from the environment, with embedded defaults for one machine and no servers.

Embedded defaults: SQLite in WAL mode and a filesystem Celery broker, both under ``var/``.
Production: set DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis or RabbitMQ), SECRET_KEY,
CREDENTIALS_KEYS, ALLOWED_HOSTS, HTTPS=1 and DEBUG=0 (see README, "Deployment").
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet

from designer.env import env, envbool, envint, envlist

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _generated_secret(filename: str, make: Callable[[], str]) -> str:
    """A secret generated once into var/ for the embedded set-up; production sets env vars."""
    path = VAR_DIR / filename
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(make())
        tmp.chmod(0o600)
        os.replace(tmp, path)
    return path.read_text().strip()


DEBUG = envbool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY") or _generated_secret("secret_key", lambda: secrets.token_urlsafe(50))
# Fernet keys that encrypt stored credentials; comma separated, the first one encrypts, all
# decrypt (MultiFernet), so a key can be rotated with `manage.py rotate_credentials_key`.
CREDENTIALS_KEYS = envlist("CREDENTIALS_KEYS") or [
    _generated_secret("credentials.key", lambda: Fernet.generate_key().decode())
]
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "designer.error_views.csrf_failure"  # signed-out htmx posts: to the login
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "designer.projects",
    "designer.design",
    "designer.transformations",
    "designer.files",
    "designer.runs",
    "designer.api",
    "designer.accounts",
    "designer.notifications",
    "designer.console",
    "designer.audit",
    "designer.transfer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "designer.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After HtmxMiddleware (reads request.htmx): signed-out htmx requests get HX-Redirect.
    "designer.htmx_login.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "designer.urls"
WSGI_APPLICATION = "designer.wsgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'designer.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: a write transaction takes the lock when it begins, so select_for_update
        # sections (token refresh, run claims) serialise instead of failing with "locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not :memory:, so that worker processes started by tests share the test database.
    DATABASES["default"]["TEST"] = {
        "NAME": env("TEST_DATABASE_PATH", str(VAR_DIR / f"test-{os.getpid()}.sqlite3"))
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:list"
LOGOUT_REDIRECT_URL = "login"
LOGIN_MAX_FAILURES = envint("LOGIN_MAX_FAILURES", 10)
LOGIN_LOCKOUT_SECONDS = envint("LOGIN_LOCKOUT_SECONDS", 15 * 60)
# Failures are counted per (user name, client address); this looser cap per address stops one
# address trying many user names (designer/login_throttle.py).
LOGIN_MAX_FAILURES_PER_ADDRESS = envint("LOGIN_MAX_FAILURES_PER_ADDRESS", 100)
# How many proxies (load balancers) in front of the web nodes append to X-Forwarded-For; the
# client address is that many entries from its right. 0: REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)

# --- Mail -----------------------------------------------------------------------------------
# Production: SMTP when EMAIL_HOST is set. Embedded default: one .eml file per message under
# var/mail, readable in the console's Outbox (make run needs no mail server).
EMAIL_HOST = env("EMAIL_HOST")
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)  # implicit TLS (port 465)
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", not EMAIL_USE_SSL)  # STARTTLS
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "designer.accounts.mail.OutboxBackend"
)
EMAIL_FILE_PATH = Path(env("EMAIL_FILE_PATH", str(VAR_DIR / "mail")))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Integration Designer <designer@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_TIMEOUT", 3 * 24 * 60 * 60)
# "Forgot password?" requests per hour, per email and per client address.
PASSWORD_RESET_MAX_PER_HOUR = envint("PASSWORD_RESET_MAX_PER_HOUR", 5)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True  # serve from the app's folders too, collectstatic optional

# --- Caches (login throttling, shared state) ------------------------------------------------
REDIS_URL = env("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_DIR = Path(env("CELERY_BROKER_DIR", str(VAR_DIR / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed"):
        (CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_DEFAULT_QUEUE", "default")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Files endpoints' storage: one folder per connection, managed by the app.
FILES_ROOT = Path(env("FILES_ROOT", str(VAR_DIR / "files")))

# --- Files and transformations ---
# Uploads stream to disk and stop at this size; reads and writes refuse bigger files.
FILES_MAX_UPLOAD_BYTES = envint("FILES_MAX_UPLOAD_BYTES", 1 << 30)  # 1 GiB
# All the Files connections of one project together (uploads and files written by runs).
FILES_PROJECT_QUOTA_BYTES = envint("FILES_PROJECT_QUOTA_BYTES", 10 << 30)  # 10 GiB; 0: none
FILES_MAX_FILE_BYTES = envint("FILES_MAX_FILE_BYTES", 2 << 30)  # 2 GiB
FILES_MAX_ROWS = envint("FILES_MAX_ROWS", 10_000_000)
MAPPING_PREVIEW_RECORDS = envint("MAPPING_PREVIEW_RECORDS", 10)
# User-written expressions: seconds per evaluation (one record), and for a whole preview in
# the web process, so a hostile expression is refused instead of stalling a thread.
EXPRESSION_TIME_LIMIT = float(env("EXPRESSION_TIME_LIMIT", "0.4"))
MAPPING_PREVIEW_TIME_LIMIT = float(env("MAPPING_PREVIEW_TIME_LIMIT", "1.0"))
# --- end Files and transformations ---

# --- Connectors -----------------------------------------------------------------------------
# Extra base URLs (scheme://host[:port]) a connection may use besides each connector's own
# defaults: the local Constant Contact sandbox in development. Anything else is refused.
CONNECTOR_URL_ALLOW_LIST = envlist("CONNECTOR_URL_ALLOW_LIST", "http://127.0.0.1:8765")
CONNECTOR_RATE_LIMIT_REDIS_URL = env("CONNECTOR_RATE_LIMIT_REDIS_URL", REDIS_URL)
CONNECTOR_HTTP_TIMEOUT = float(env("CONNECTOR_HTTP_TIMEOUT", "30"))
# Tests only: the worker processes the tests start pace connector calls N times faster
# (tests/runs/conftest.py sets it), so a 1,000-contact run takes seconds, not minutes.
CONNECTOR_RATE_LIMIT_SPEEDUP = float(env("CONNECTOR_RATE_LIMIT_SPEEDUP", "1"))
# Tests only: their worker processes wait N times less between retries of a failed call.
CONNECTOR_RETRY_SPEEDUP = float(env("CONNECTOR_RETRY_SPEEDUP", "1"))
# Without Redis, the worker processes of this machine share Constant Contact's rate limit and
# daily call counts through a SQLite file in this folder.
CONNECTOR_STATE_DIR = Path(env("CONNECTOR_STATE_DIR", str(VAR_DIR / "connector-state")))
# Calls per Constant Contact API key per UTC day (its quota); runs stop before exceeding it.
CONSTANT_CONTACT_DAILY_QUOTA = envint("CONSTANT_CONTACT_DAILY_QUOTA", 10_000)

# --- Security -------------------------------------------------------------------------------
# Behind HTTPS in production (HTTPS=1): secure cookies, HSTS, redirect to https.
HTTPS = envbool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}},
}

# --- Runs -----------------------------------------------------------------------------------
# Workers (agents) send a heartbeat every RUNS_HEARTBEAT_SECONDS; a run whose agent has been
# silent for RUNS_AGENT_LOST_SECONDS is ended as Error or re-queued (Operation.on_agent_lost).
RUNS_HEARTBEAT_SECONDS = float(env("RUNS_HEARTBEAT_SECONDS", "10"))
RUNS_AGENT_LOST_SECONDS = float(env("RUNS_AGENT_LOST_SECONDS", "60"))
RUNS_MAX_REQUEUES = envint("RUNS_MAX_REQUEUES", 3)
# Runs of one operation waiting for an agent: one without input records (a second Run click
# or schedule start is refused, "already queued"); up to this many that bring their own
# records (API triggers, re-runs of failed records).
RUNS_MAX_PENDING_WITH_INPUT = envint("RUNS_MAX_PENDING_WITH_INPUT", 20)
# A Pending run no agent picked up this long after its message was published, while an agent
# of its queue is idle, is published again (a broker may lose messages).
RUNS_PENDING_REPUBLISH_SECONDS = float(env("RUNS_PENDING_REPUBLISH_SECONDS", "120"))
# Run rows, log lines, failures and debug samples older than this are pruned daily.
RUNS_RETENTION_DAYS = envint("RUNS_RETENTION_DAYS", 30)
# The installed connectors, key -> dotted path (connectors/registry.py reads this). Extra ones
# from the environment, "key=dotted.path.Class" comma separated (tests' workers, plug-ins).
CONNECTORS = {
    "constant_contact": "connectors.constant_contact.connector.ConstantContactConnector",
    "files": "connectors.files.connector.FilesConnector",
    "api_request": "connectors.api_request.connector.ApiRequestConnector",  # designer/api triggers
    **{
        key.strip(): dotted.strip()
        for key, _, dotted in (entry.partition("=") for entry in envlist("EXTRA_CONNECTORS"))
        if key.strip() and dotted.strip()
    },
}
# The embedded (filesystem) broker is polled; kombu's default of once a second caps a worker
# at one run a second and adds up to a second of queue latency (benchmarks/engine.py).
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] = float(
        env("RUNS_BROKER_POLL_SECONDS", "0.1")
    )
    # Fanout bindings (worker remote control) beside the queues, not in the current folder.
    CELERY_BROKER_TRANSPORT_OPTIONS["control_folder"] = str(CELERY_BROKER_DIR / "control")
    (CELERY_BROKER_DIR / "control").mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE = {
    "runs-reap-lost": {"task": "runs.reap_lost", "schedule": 30.0},
    "runs-prune": {"task": "runs.prune", "schedule": 24 * 60 * 60.0},
}
# --- end Runs -------------------------------------------------------------------------------

# --- API (designer/api) ---------------------------------------------------------------------
# Inbound API triggers: the largest body accepted (bytes) and records per request, accepted
# requests per trigger per minute (0: no limit), how far a signed request's timestamp may
# be from now (seconds). ?wait=N on the API and triggers waits at most API_MAX_WAIT_SECONDS.
API_TRIGGER_MAX_BODY_BYTES = envint("API_TRIGGER_MAX_BODY_BYTES", 10 * 1024 * 1024)
API_TRIGGER_MAX_RECORDS = envint("API_TRIGGER_MAX_RECORDS", 50_000)
API_TRIGGER_RATE_PER_MINUTE = envint("API_TRIGGER_RATE_PER_MINUTE", 120)
API_TRIGGER_SIGNATURE_TOLERANCE = envint("API_TRIGGER_SIGNATURE_TOLERANCE", 300)
API_MAX_WAIT_SECONDS = envint("API_MAX_WAIT_SECONDS", 300)
# A run started with ?wait=N (a synchronous trigger) keeps what its chain's last step gave
# for each record, to answer with: at most this many records and bytes of JSON (beyond
# them the answer says "truncated").
RUN_RESPONSE_MAX_RECORDS = envint("RUN_RESPONSE_MAX_RECORDS", 1000)
RUN_RESPONSE_MAX_BYTES = envint("RUN_RESPONSE_MAX_BYTES", 1_000_000)
# --- end API --------------------------------------------------------------------------------
