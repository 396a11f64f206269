"""Production (`docker compose up`): every secret from the environment, HTTPS only."""

from django.core.exceptions import ImproperlyConfigured

from .base import *

for _name, _value in {
    "DJANGO_SECRET_KEY": SECRET_KEY,
    "LINLI_FIELD_KEYS": LINLI_FIELD_KEYS,
    "LINLI_HASH_KEY": LINLI_HASH_KEY,
    "DATABASE_URL": env("DATABASE_URL"),
    "REDIS_URL": REDIS_URL,
}.items():
    if not _value:
        raise ImproperlyConfigured(f"{_name} must be set in production")

DATABASES["default"]["CONN_MAX_AGE"] = int(env("DB_CONN_MAX_AGE", "60") or 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# The container healthcheck and the load balancer probe /healthz over plain HTTP inside the
# network; a redirect to https:// would read as "unhealthy". It shows no data.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", "31536000") or 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend") or ""
