"""Celery against the real Redis broker: the wiring that production's worker relies on.

The test settings run tasks eagerly; here the project's own Celery app (config.celery)
sends to Redis and an in-process worker takes the task off the queue, so the broker
URL, serialization, task discovery and the Django fixup are what production runs.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connections
from django.utils import timezone

from accounts.tasks import sessions_clear_expired_task
from config.celery import app

pytestmark = pytest.mark.services


def test_celery_acknowledges_late_and_takes_one_task_at_a_time() -> None:
    # A task is acknowledged after it ran, goes back to the queue if its worker dies,
    # and a worker holds no queue of prefetched tasks another worker could have run.
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert "accounts.tasks.sessions_clear_expired_task" in app.tasks


def _forget_connections(celery_app: Celery) -> None:
    """Drop the broker pool and result backend the app cached for its old settings."""
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local = threading.local()


@pytest.fixture
def redis_celery(require_redis: str) -> Iterator[Celery]:
    """config.celery's app talking to Redis (broker and, for this test only, results)."""
    overrides: dict[str, Any] = {
        "broker_url": require_redis,
        "result_backend": require_redis,
        "task_always_eager": False,
        "result_extended": True,  # the result records which worker ran the task
        "worker_hijack_root_logger": False,  # leave pytest's logging alone
    }
    saved = {key: app.conf[key] for key in overrides}
    app.conf.update(overrides)
    _forget_connections(app)
    yield app
    app.conf.update(saved)
    _forget_connections(app)


@pytest.mark.django_db(transaction=True)  # the worker thread reads through its own connection
def test_worker_takes_the_session_cleanup_task_from_redis_and_runs_it(
    redis_celery: Celery,
) -> None:
    expired = SessionStore()
    expired["user"] = "gone"
    expired.create()
    Session.objects.filter(pk=expired.session_key).update(
        expire_date=timezone.now() - dt.timedelta(days=1)
    )
    live = SessionStore()
    live.create()
    # A queue of its own, so a worker of a parallel test run cannot take the task.
    queue = f"linli-test-{uuid.uuid4().hex}"

    with start_worker(
        redis_celery, queues=[queue], perform_ping_check=False, shutdown_timeout=30
    ) as _worker:
        result = sessions_clear_expired_task.apply_async(kwargs={}, queue=queue)
        result.get(timeout=30)
        # Ran by that worker, not eagerly here: the backend recorded who ran it.
        assert not isinstance(result, EagerResult)
        assert result.status == "SUCCESS"
        assert result.worker  # the result backend holds the worker's host: it ran there

    assert not Session.objects.filter(pk=expired.session_key).exists()
    assert Session.objects.filter(pk=live.session_key).exists()
    connections.close_all()
