"""The embedded periodic loop: Celery beat's job when there is no Celery (DESIGN §6).

It runs every entry of settings.LINLI_PERIODIC_TASKS at its interval, in-process. Each
task is idempotent and safe to run beside another runner, so a loop and a beat that
overlap for a moment do no harm.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)


def _task(name: str) -> Any:
    """The registered task; outside a worker, Celery discovers the apps' tasks.py lazily."""
    if name not in current_app.tasks:
        # Sends import_modules, which runs the app's autodiscover_tasks() (a worker does
        # this at start-up; the web process never does unless asked).
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def run_due(last_run: dict[str, float], now: float) -> list[str]:
    """Run every periodic task whose interval has passed; return the names that ran."""
    ran = []
    for name, spec in settings.LINLI_PERIODIC_TASKS.items():
        every = float(spec["every"])  # type: ignore[arg-type]
        if now - last_run.get(name, float("-inf")) < every:
            continue
        last_run[name] = now
        try:
            _task(str(spec["task"])).apply(throw=True)
        except Exception:
            logger.exception("periodic task %s failed", name)
        ran.append(name)
    return ran


def start_loop(tick: float = 1.0, clock: Callable[[], float] = time.monotonic) -> threading.Event:
    """Start the loop on a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        last_run: dict[str, float] = {}
        while not stop.is_set():
            close_old_connections()
            run_due(last_run, clock())
            stop.wait(tick)

    threading.Thread(target=loop, name="linli-periodic", daemon=True).start()
    return stop
