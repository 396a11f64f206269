"""Background work of the grievances app: each task fetches, then makes one service call."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from grievances.sla.sweep import DEFAULT_BATCH_SIZE, DEFAULT_TIME_BUDGET, sla_sweep


@shared_task
def sla_sweep_task(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    time_budget: float | None = DEFAULT_TIME_BUDGET,
    **kwargs: Any,
) -> dict[str, Any]:
    """Record due SLA warnings, breaches and escalations (periodic, every 10 s; idempotent)."""
    result = sla_sweep(now=timezone.now(), batch_size=batch_size, time_budget=time_budget)
    return result.as_dict()


@shared_task
def grievances_autoclose_task(**kwargs: Any) -> int:
    """Close resolved grievances nobody confirmed within 3 days (periodic, idempotent)."""
    from grievances.services.closing import grievances_autoclose

    return grievances_autoclose(now=timezone.now())
