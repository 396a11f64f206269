"""Background work of the credit app: each task fetches, then makes one service call."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.utils import timezone

from credit.services.reconciliation import ledger_reconcile_scheduled
from credit.services.requests import deductions_apply_due
from credit.services.supermarket import redemptions_expire

logger = logging.getLogger(__name__)


@shared_task
def redemptions_expire_task(**kwargs: Any) -> int:
    """Expire supermarket reservations past their pickup deadline (periodic, idempotent)."""
    return redemptions_expire(now=timezone.now())


@shared_task
def deductions_apply_due_task(**kwargs: Any) -> int:
    """Apply notified deductions past their appeal deadline (periodic, idempotent)."""
    return deductions_apply_due(now=timezone.now())


@shared_task
def ledger_reconcile_task(**kwargs: Any) -> bool:
    """Nightly: prove the ledger adds up (a full check weekly); drift is logged as an error."""
    report = ledger_reconcile_scheduled(now=timezone.now())
    if not report.ok:
        logger.error(
            "points ledger drift (%s check): %s account(s) differ; "
            "outstanding %s by balances, %s by flows",
            "full" if report.full else "incremental",
            len(report.drifted),
            report.outstanding_cached,
            report.outstanding_expected,
        )
    return report.ok
