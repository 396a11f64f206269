"""The embedded periodic loop (config.embedded): Celery beat's job when there is no Celery."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from celery import current_app
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.embedded import _task, run_due

TASK = "accounts.tasks.sessions_clear_expired_task"


def test_tasks_are_found_without_a_worker_having_imported_them() -> None:
    # The web process never runs Celery's autodiscovery; the loop must not depend on it.
    assert _task(TASK).name == TASK
    assert TASK in current_app.tasks


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, settings: Any) -> list[str]:
    """Two periodic tasks on a short table; records each run instead of running it."""
    settings.LINLI_PERIODIC_TASKS = {
        "every-minute": {"task": TASK, "every": 60},
        "every-hour": {"task": TASK, "every": 3600},
    }
    ran: list[str] = []
    monkeypatch.setattr(_task(TASK), "apply", lambda *args, **kwargs: ran.append(TASK))
    return ran


def test_run_due_runs_every_task_the_first_time(calls: list[str]) -> None:
    last_run: dict[str, float] = {}

    assert run_due(last_run, now=1000.0) == ["every-minute", "every-hour"]
    assert len(calls) == 2
    assert last_run == {"every-minute": 1000.0, "every-hour": 1000.0}


def test_run_due_waits_for_the_interval_before_running_again(calls: list[str]) -> None:
    last_run: dict[str, float] = {}
    run_due(last_run, now=1000.0)

    assert run_due(last_run, now=1059.9) == []
    assert run_due(last_run, now=1060.0) == ["every-minute"]
    assert run_due(last_run, now=1119.0) == []
    assert run_due(last_run, now=4600.0) == ["every-minute", "every-hour"]
    assert len(calls) == 5


def test_a_failing_task_is_logged_and_the_loop_goes_on(
    monkeypatch: pytest.MonkeyPatch, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.LINLI_PERIODIC_TASKS = {"broken": {"task": TASK, "every": 60}}

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(_task(TASK), "apply", explode)
    last_run: dict[str, float] = {}

    assert run_due(last_run, now=0.0) == ["broken"]
    assert "periodic task broken failed" in caplog.text
    # Not retried at once: a task that fails every time must not spin the loop.
    assert run_due(last_run, now=1.0) == []


@pytest.mark.django_db
def test_run_due_really_runs_the_session_cleanup(settings: Any) -> None:
    settings.LINLI_PERIODIC_TASKS = {"sessions-clear-expired": {"task": TASK, "every": 3600}}
    session = SessionStore()
    session.create()
    Session.objects.filter(pk=session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(minutes=1)
    )

    assert run_due({}, now=0.0) == ["sessions-clear-expired"]
    assert not Session.objects.filter(pk=session.session_key).exists()
