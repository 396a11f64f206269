"""The embedded run mode (`make run`): SQLite, tasks on threads, development keys."""

from .base import *

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"
ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1"]
LINLI_TASK_MODE = env("LINLI_TASK_MODE", "embedded")
# Development keys: fine for a demo database, never for real residents.
LINLI_FIELD_KEYS = LINLI_FIELD_KEYS or ["ZGV2LWtleS1vbmx5LWZvci1saW5saS1sb2NhbC0wMDA="]
LINLI_HASH_KEY = LINLI_HASH_KEY or "local-development-hash-key"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
    "rest_framework.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
]

# Notifications (accounts.notifications): development prints each one to the console log.
LINLI_NOTIFICATION_BACKENDS = env_list(
    "LINLI_NOTIFICATION_BACKENDS", "accounts.notifications.backends.ConsoleBackend"
)

# The embedded loop runs the SLA sweep every 10 seconds: one "Task … succeeded" line each
# time would bury the request log. Failures are still logged (WARNING and above).
LOGGING = {
    **LOGGING,
    "loggers": {**LOGGING["loggers"], "celery.app.trace": {"level": "WARNING"}},  # type: ignore[dict-item]
}
