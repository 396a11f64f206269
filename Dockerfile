# Linli for production: gunicorn serving config.wsgi on :8000 (see docker-compose.yml).
# Settings come from the environment only (DJANGO_SETTINGS_MODULE=config.settings.production).

# --- build: dependencies into a virtualenv, translations compiled, static files collected
FROM python:3.11-slim AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Dependencies first, so a code change does not reinstall them. The project installs no
# package of its own (pyproject: packages = []): `pip install .` installs the pinned tree.
COPY pyproject.toml constraints.txt README.md ./
RUN pip install -c constraints.txt . && rm -rf build *.egg-info

WORKDIR /app
COPY . .
# Dummy values for the build only (production.py refuses to load without them); they are
# not kept in the image. collectstatic and compilemessages touch no database or key.
RUN export DJANGO_SETTINGS_MODULE=config.settings.production \
        DJANGO_SECRET_KEY=build-time-only-not-a-secret-build-time-only-not-a-secret \
        LINLI_FIELD_KEYS=YnVpbGQtdGltZS1vbmx5LW5vdC1hLXNlY3JldC0wMDA= \
        LINLI_HASH_KEY=build-time-only \
        DATABASE_URL=sqlite:////tmp/build.sqlite3 \
        REDIS_URL=redis://build-time-only:6379/0 \
        STATIC_ROOT=/app/staticfiles \
    && python manage.py compilemessages --ignore=staticfiles \
    && python manage.py collectstatic --noinput \
    && find /app -name __pycache__ -prune -exec rm -rf {} +

# --- runtime: no compilers, no gettext, a non-root user
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media \
    PRIVATE_STORAGE_ROOT=/data/private

RUN groupadd --system --gid 10001 linli \
    && useradd --system --uid 10001 --gid linli --home-dir /app --shell /usr/sbin/nologin linli \
    && mkdir -p /data/media /data/private \
    && chown -R linli:linli /data

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER linli

EXPOSE 8000
# /healthz answers over plain HTTP (exempt from the HTTPS redirect) when the database does.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://localhost:8000/healthz', timeout=4).status != 200)"]

# Workers: WEB_CONCURRENCY (gunicorn reads it); more options through GUNICORN_CMD_ARGS.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
