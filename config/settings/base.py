"""Settings shared by every run mode. Everything that differs comes from the environment.

No secrets here and DEBUG is off: local.py and test.py add development defaults,
production.py insists that every secret is given.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = env("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "django_celery_beat",
    "config",
    "accounts",
    "community",
    "credit",
    "grievances",
    "volunteers",
    "property_mgmt",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that a locked-out login never reaches the view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.linli_nav",
            ],
        },
    },
]

# SQLite by default (the embedded run mode); PostgreSQL when DATABASE_URL says so.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}") or "",
        conn_max_age=int(env("DB_CONN_MAX_AGE", "0") or 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The bill index's INCLUDE columns (property_mgmt FeeBill, for PostgreSQL's
    # index-only scans) are left out on SQLite; the index itself is made. Said once here,
    # not on every migrate.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
    # WAL lets progress pages read while an import writes; IMMEDIATE takes the write
    # lock at BEGIN so two writers queue instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # axes first, so a locked-out username + IP is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PhoneBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.CharacterClassValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# django-axes: lock a username *together with* the IP it was tried from, so one person
# guessing a neighbour's password cannot lock out a whole building behind one NAT.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5") or 5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.phone.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_IPWARE_PROXY_COUNT = int(env("AXES_PROXY_COUNT", "0") or 0)
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "new_password1"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")) or "")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")) or "")
# Uploaded files (imports, and later photos) live outside the web root and are served by views.
PRIVATE_STORAGE_ROOT = Path(env("PRIVATE_STORAGE_ROOT", str(BASE_DIR / "private")) or "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Personal data (PIPL). Fernet keys (comma-separated, newest first, for rotation) encrypt
# national ID numbers; a separate HMAC key makes the lookup/uniqueness hash.
LINLI_FIELD_KEYS = env_list("LINLI_FIELD_KEYS")
LINLI_HASH_KEY = env("LINLI_HASH_KEY", "")

# Days a resident has to appeal a notified deduction before it counts (诚信积分申诉期).
LINLI_APPEAL_DAYS = int(env("LINLI_APPEAL_DAYS", "7") or 7)
# Grievances: photo limits, deadline extensions per clock, days before a resolution nobody
# rated closes by itself, and the response window the KPIs count.
LINLI_PHOTO_MAX_BYTES = int(env("LINLI_PHOTO_MAX_BYTES", "") or 8 * 1024 * 1024)
LINLI_PHOTO_MAX_PIXELS = int(env("LINLI_PHOTO_MAX_PIXELS", "") or 40_000_000)
LINLI_GRIEVANCE_MAX_EXTENSIONS = int(env("LINLI_GRIEVANCE_MAX_EXTENSIONS", "2") or 2)
LINLI_GRIEVANCE_AUTOCLOSE_DAYS = int(env("LINLI_GRIEVANCE_AUTOCLOSE_DAYS", "3") or 3)
LINLI_GRIEVANCE_RESPONSE_MINUTES = int(env("LINLI_GRIEVANCE_RESPONSE_MINUTES", "60") or 60)
# Volunteers: no-shows after which sign-up is blocked until staff lift it.
LINLI_VOLUNTEER_NO_SHOW_LIMIT = int(env("LINLI_VOLUNTEER_NO_SHOW_LIMIT", "3") or 3)

REDIS_URL = env("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            # A file cache is shared between the web process and background threads and
            # processes, so import progress is visible while an import runs.
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(BASE_DIR / ".cache"),
        }
    )
}

# Celery (production: Redis broker). Embedded mode runs tasks in-process (config.tasks).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged after it ran, not when it was taken
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...and goes back to the queue if the worker dies
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The periodic work of the platform. Celery beat runs it in production; the embedded run
# command's loop runs the same table (config.embedded).
LINLI_PERIODIC_TASKS: dict[str, dict[str, object]] = {
    "sessions-clear-expired": {"task": "accounts.tasks.sessions_clear_expired_task", "every": 3600},
    # Notifications whose after-commit delivery task was lost (broker down).
    "accounts-notifications-deliver-pending": {
        "task": "accounts.tasks.notifications_deliver_pending_task",
        "every": 300,
    },
    "credit-redemptions-expire": {"task": "credit.tasks.redemptions_expire_task", "every": 300},
    "credit-deductions-apply-due": {"task": "credit.tasks.deductions_apply_due_task", "every": 300},
    "credit-ledger-reconcile": {"task": "credit.tasks.ledger_reconcile_task", "every": 86400},
    # Warnings, breaches and escalations of the grievances' SLA clocks (DESIGN §5).
    "grievances-sla-sweep": {"task": "grievances.tasks.sla_sweep_task", "every": 10},
    # Resolved grievances nobody confirmed within 3 days close by themselves.
    "grievances-autoclose": {"task": "grievances.tasks.grievances_autoclose_task", "every": 3600},
}
CELERY_BEAT_SCHEDULE = {
    name: {"task": spec["task"], "schedule": float(spec["every"])}  # type: ignore[arg-type]
    for name, spec in LINLI_PERIODIC_TASKS.items()
}
# "embedded": background tasks run on threads of the web process; "celery": sent to the broker.
LINLI_TASK_MODE = env("LINLI_TASK_MODE", "celery")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Throttled by default: the registry API answers searches (a phone's last 4 digits,
    # an ID lookup), and rates bound how fast anyone can walk through them.
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.UserRateThrottle",
        "config.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Linli 邻里通 API",
    "DESCRIPTION": "Community governance platform: registry, points, grievances, volunteers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status"; name each enum of the schema after its model.
    "ENUM_NAME_OVERRIDES": {
        "GrievanceStatusEnum": "grievances.models.Grievance.Status",
        "DispatchStatusEnum": "grievances.models.Dispatch.Status",
        "GrievanceChannelEnum": "grievances.models.Grievance.Channel",
        "TierEnum": "grievances.models.Tier",
        "RedemptionStatusEnum": "credit.models.Redemption.Status",
    },
}

# Every log line is masked (ID and mobile numbers), including the request lines of
# django.server and the errors (with tracebacks) of django.request: a whole ID number in a
# URL or an exception would otherwise reach the log as it is. The filter sits on those
# loggers, so it runs before any handler (Django's own ones included) formats the record.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "community.privacy.MaskPersonalDataFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_personal_data"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["mask_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # As Django's default (own handler, not propagated), plus the filter.
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["mask_personal_data"],
        },
        "django.request": {"filters": ["mask_personal_data"]},
    },
}
# Reverting to an old version from the history page would bypass the services (and their
# checks); history is read-only, changes go through the change form.
SIMPLE_HISTORY_REVERT_DISABLED = True

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Notifications (accounts.notifications) -----------------------------------------------
# Every notification goes to the user's inbox on the site; these backends also send it,
# after the transaction commits. Environment variables:
#   LINLI_NOTIFICATION_BACKENDS  comma-separated dotted paths (default: none), e.g.
#       accounts.notifications.backends.SmsBackend,accounts.notifications.backends.EmailBackend
#   LINLI_SMS_GATEWAY_URL        http(s) address that takes POST {"phone": ..., "text": ...}
#   LINLI_SMS_GATEWAY_TOKEN      optional, sent as "Authorization: Bearer <token>"
#   LINLI_SMS_GATEWAY_TIMEOUT    seconds (default 10)
#   LINLI_SITE_URL               e.g. https://linli.example.org: full links in SMS and e-mail
#   DEFAULT_FROM_EMAIL, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
#   EMAIL_USE_TLS                Django's e-mail settings, for the e-mail backend
LINLI_NOTIFICATION_BACKENDS = env_list("LINLI_NOTIFICATION_BACKENDS")
LINLI_SMS_GATEWAY_URL = env("LINLI_SMS_GATEWAY_URL", "") or ""
LINLI_SMS_GATEWAY_TOKEN = env("LINLI_SMS_GATEWAY_TOKEN", "") or ""
LINLI_SMS_GATEWAY_TIMEOUT = float(env("LINLI_SMS_GATEWAY_TIMEOUT", "10") or 10)
LINLI_SITE_URL = env("LINLI_SITE_URL", "") or ""
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "linli@localhost") or "linli@localhost"
EMAIL_HOST = env("EMAIL_HOST", "localhost") or "localhost"
EMAIL_PORT = int(env("EMAIL_PORT", "25") or 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
