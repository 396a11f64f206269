"""The SLA sweep in a real Celery worker process, killed mid-sweep (DESIGN §5, issue 4).

A worker (`celery -A config worker`, as production runs it) takes the sweep task from
Redis and works through thousands of due clocks in batches of 500. The test SIGKILLs it
once some batches have committed and others not, starts a new worker and sends the task
again until nothing is due: every clock ends with exactly one breach event, and the
handler heard about each clock exactly once. The batch the dead worker was in rolled back
with its connection, so nothing of it is half written.

The worker uses the test settings (it only consumes; "always eager" affects senders) with
DATABASE_URL naming the test database this test writes to, and REDIS_URL as broker.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from accounts.models import Notification
from community.tests.factories import UserFactory
from config.celery import app
from grievances.models import Grievance, SlaClock, SlaEvent, Trigger
from grievances.sla.clocks import clock_deadlines, spec_snapshot
from grievances.sla.sweep import sla_due_count
from grievances.tests.factories_sla import SlaCategoryFactory, SlaClockSpecFactory

pytestmark = pytest.mark.services

BASE_DIR = Path(settings.BASE_DIR)
CELERY = BASE_DIR / ".venv" / "bin" / "celery"
CLOCKS = 2000
TASK = "grievances.tasks.sla_sweep_task"


def _forget_connections(celery_app: Celery) -> None:
    """Drop the broker pool the app cached for its old settings."""
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None
    celery_app._local = threading.local()


@pytest.fixture
def broker(require_redis: str) -> Iterator[Celery]:
    """config.celery's app sending to Redis instead of running tasks eagerly."""
    overrides: dict[str, Any] = {"broker_url": require_redis, "task_always_eager": False}
    saved = {key: app.conf[key] for key in overrides}
    app.conf.update(overrides)
    _forget_connections(app)
    yield app
    app.conf.update(saved)
    _forget_connections(app)


def _database_url() -> str:
    """The URL of the database this test writes to (pytest-django's test database)."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class Worker:
    """A `celery worker` subprocess on a queue of its own; always ended by the test."""

    def __init__(self, queue: str, redis_url: str, log: IO[bytes]) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_url,
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                queue,
                "-n",
                f"{queue}-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def _due_clocks(world: Any, handler: Any, now: dt.datetime) -> None:
    """CLOCKS grievances, each with a 60-minute clock that went overdue 5 minutes ago."""
    spec = SlaClockSpecFactory(warn_percent=0, stop_on=[Trigger.RESOLVED])
    category = SlaCategoryFactory(sla_policy=spec.policy)
    grievances = Grievance.objects.bulk_create(
        Grievance(
            community=world.home,
            building=world.building_a,
            category=category,
            title=f"漏水{index}",
            description="漏水",
            channel=Grievance.Channel.HOTLINE,
            status=Grievance.Status.DISPATCHED,
            tier="routine",
            handler_user=handler,
            submitted_at=now,
        )
        for index in range(CLOCKS)
    )
    snapshot = spec_snapshot(spec)
    started = now - dt.timedelta(minutes=65)
    # Breach only: the office's rung (due + 60 min) is still 55 minutes away.
    due_at, warn_at = clock_deadlines(snapshot, started)
    SlaClock.objects.bulk_create(
        SlaClock(
            grievance=grievance,
            kind=spec.kind,
            policy=spec.policy,
            spec=snapshot,
            started_at=started,
            due_at=due_at,
            warn_at=warn_at,
        )
        for grievance in grievances
    )


def _breaches() -> int:
    return SlaEvent.objects.filter(kind=SlaEvent.Kind.BREACH).count()


def _wait_for(condition: Any, timeout: float, what: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace")[-5000:])
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)  # the worker process reads what this test commits
def test_killing_the_worker_mid_sweep_loses_no_breach_and_duplicates_none(
    require_postgres: None, broker: Celery, world: Any
) -> None:
    redis_url = str(broker.conf.broker_url)
    handler = UserFactory(name="陈师傅")
    _due_clocks(world, handler, timezone.now())
    queue = f"linli-test-sweep-{uuid.uuid4().hex}"
    workers: list[Worker] = []
    with tempfile.TemporaryFile() as log:
        try:
            first = Worker(queue, redis_url, log)
            workers.append(first)
            broker.send_task(TASK, kwargs={"batch_size": 500}, queue=queue)
            # Some batches committed, not all: kill it in the middle of the sweep.
            _wait_for(lambda: _breaches() > 0, 45, "the first batch", log)
            first.kill()
            done_before_kill = _breaches()
            assert 0 < done_before_kill < CLOCKS, "the worker finished before it was killed"

            second = Worker(queue, redis_url, log)
            workers.append(second)
            # The killed task's message stays unacknowledged (until the visibility
            # timeout); beat would send the next one in 10 s: send it as beat would.
            deadline = time.monotonic() + 45
            while sla_due_count(now=timezone.now()) and time.monotonic() < deadline:
                seen = _breaches()
                broker.send_task(TASK, kwargs={"batch_size": 500}, queue=queue)
                _wait_for(
                    lambda: _breaches() > seen or not sla_due_count(now=timezone.now()),  # noqa: B023
                    30,
                    "the next sweep",
                    log,
                )
                time.sleep(0.5)
            assert sla_due_count(now=timezone.now()) == 0
        finally:
            for worker in workers:
                worker.kill()
            connections.close_all()

    per_clock = SlaEvent.objects.values("clock", "kind", "level").annotate(n=Count("id"))
    assert {row["n"] for row in per_clock} == {1}
    assert _breaches() == CLOCKS
    assert SlaEvent.objects.count() == CLOCKS
    assert not SlaClock.objects.filter(breached_at__isnull=True).exists()
    # The killed batch rolled back with its messages: one per clock, none lost or doubled.
    assert Notification.objects.filter(user=handler).count() == CLOCKS
