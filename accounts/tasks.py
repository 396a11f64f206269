from __future__ import annotations

from typing import Any

from celery import shared_task
from django.core.management import call_command


@shared_task
def sessions_clear_expired_task(**kwargs: Any) -> None:
    """Remove expired login sessions (hourly)."""
    call_command("clearsessions")
