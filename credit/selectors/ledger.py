"""Reads of the points ledger. Every read a page or API makes takes the acting user."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from community.models import Resident
from community.scoping import scope_filter
from credit.models import PointsAccount, PointsEntry


def account_visible(*, user: Any, resident_id: int) -> PointsAccount | None:
    """A resident's account if the user may see that resident (None: no account yet)."""
    residents = scope_filter(Resident.objects.filter(pk=resident_id), user)
    return PointsAccount.objects.filter(resident__in=residents).first()


def account_history(*, account: PointsAccount) -> QuerySet[PointsEntry]:
    """Every entry that moved points in or out of `account`, newest first."""
    return (
        PointsEntry.objects.filter(Q(credit_account=account) | Q(debit_account=account))
        .select_related("rule")
        .order_by("-id")
    )
