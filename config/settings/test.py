"""Tests: SQLite by default; PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set."""

from .base import *

SECRET_KEY = "test-only-not-secret"
LINLI_FIELD_KEYS = ["bGlubGktdGVzdC1rZXktbm90LXNlY3JldC0wMDAwMDA="]
LINLI_HASH_KEY = "test-hash-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
LINLI_TASK_MODE = "sync"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
PRIVATE_STORAGE_ROOT = BASE_DIR / ".test-private"
if not REDIS_URL:
    CACHES = {**CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Throttle classes stay on (as in production); a rate of None lets every request through.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], None
)
