from __future__ import annotations

from typing import Any

from celery import shared_task
from django.core.management import call_command
from django.utils import timezone

from accounts.notifications import (
    notification_deliveries_send,
    notification_deliveries_send_pending,
)


@shared_task
def sessions_clear_expired_task(**kwargs: Any) -> None:
    """Remove expired login sessions (hourly)."""
    call_command("clearsessions")


@shared_task
def notifications_deliver_task(*, delivery_ids: list[int], **kwargs: Any) -> None:
    """Send notification deliveries; queued after the notifying transaction commits."""
    notification_deliveries_send(delivery_ids=delivery_ids)


@shared_task
def notifications_deliver_pending_task(**kwargs: Any) -> None:
    """Send deliveries whose after-commit task was lost (every few minutes)."""
    notification_deliveries_send_pending(now=timezone.now())
