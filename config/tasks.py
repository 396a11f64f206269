"""Sending background work, the same way in every run mode.

Callers use `enqueue_on_commit`; it never sends inside a transaction (DESIGN §3).
- "celery" (production): the task goes to the broker after commit.
- "embedded" (`make run`): the task runs on a thread of the web process, so a newcomer
  needs no broker and a long job still lets the page poll its progress.
- "sync" (tests): the task runs at once, after commit, in the caller's thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction

logger = logging.getLogger(__name__)


def _run_in_thread(task: Any, kwargs: dict[str, Any]) -> None:
    def target() -> None:
        close_old_connections()
        try:
            task.apply(kwargs=kwargs, throw=True)
        except Exception:
            logger.exception("background task %s failed", task.name)
        finally:
            close_old_connections()

    threading.Thread(target=target, name=f"task-{task.name}", daemon=True).start()


def enqueue_on_commit(task: Any, **kwargs: Any) -> None:
    """Run `task(**kwargs)` in the background once the current transaction commits."""
    mode = settings.LINLI_TASK_MODE

    def send() -> None:
        if mode == "embedded":
            _run_in_thread(task, kwargs)
        elif mode == "sync":
            task.apply(kwargs=kwargs, throw=True)
        else:
            task.apply_async(kwargs=kwargs)

    transaction.on_commit(send)
