"""`make bench`: production settings served over plain http on 127.0.0.1.

Everything production does (DEBUG off, manifest static files, connection health checks,
the same middleware) except what needs TLS in front: wrk talks http to gunicorn directly.
The secrets are dummies that `bench.run` puts in the environment; never real keys.
"""

from .production import *

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Persistent connections, as a tuned deployment runs them (None: never closed by age).
DATABASES["default"]["CONN_MAX_AGE"] = None
# The reference views (bench/urls.py), mounted at /bench/ only in this settings module.
LINLI_BENCH_REFERENCES = True
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}
# wrk drives the API from one user far above any real rate. The throttle still runs (its
# cache round trip is part of what an API request costs in production), with a rate no
# benchmark reaches, so the measurement never turns into 429s.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(
        REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "10000000/min"
    ),
}
