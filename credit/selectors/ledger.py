"""Reads of the points ledger. Every read a page or API makes takes the acting user."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Sum

from community.models import Resident
from community.scoping import scope_filter
from credit.models import PointsAccount, PointsEntry

Kind = PointsEntry.Kind


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


@dataclass
class Reconciliation:
    """What `credit_reconcile` proves: cached balances and the flows add up."""

    accounts_checked: int = 0
    drifted: list[tuple[int, int, int]] = field(default_factory=list)  # (account, cached, entries)
    flows: dict[str, int] = field(default_factory=dict)
    outstanding_cached: int = 0
    outstanding_expected: int = 0

    @property
    def ok(self) -> bool:
        return not self.drifted and self.outstanding_cached == self.outstanding_expected


def ledger_reconciliation() -> Reconciliation:
    """Check every resident balance against its entries, and issued − spent − … = outstanding.

    Grouped sums, not a loop over accounts: a handful of queries for any ledger size.
    """
    report = Reconciliation()
    credits = dict(
        PointsEntry.objects.filter(credit_account__kind=PointsAccount.Kind.RESIDENT)
        .values_list("credit_account")
        .annotate(total=Sum("amount"))
        .values_list("credit_account", "total")
    )
    debits = dict(
        PointsEntry.objects.filter(debit_account__kind=PointsAccount.Kind.RESIDENT)
        .values_list("debit_account")
        .annotate(total=Sum("amount"))
        .values_list("debit_account", "total")
    )
    for account_id, cached in PointsAccount.objects.filter(
        kind=PointsAccount.Kind.RESIDENT
    ).values_list("id", "balance"):
        report.accounts_checked += 1
        from_entries = credits.get(account_id, 0) - debits.get(account_id, 0)
        report.outstanding_cached += cached
        if cached != from_entries:
            report.drifted.append((account_id, cached, from_entries))
    gross = dict(
        PointsEntry.objects.exclude(kind=Kind.REVERSAL)
        .values_list("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    )
    reversed_ = dict(
        PointsEntry.objects.filter(kind=Kind.REVERSAL)
        .values_list("reverses__kind")
        .annotate(total=Sum("amount"))
        .values_list("reverses__kind", "total")
    )
    net = {}
    for kind in (Kind.AWARD, Kind.DEDUCTION, Kind.REDEMPTION, Kind.EXPIRY):
        report.flows[str(kind)] = int(gross.get(kind, 0))
        report.flows[f"{kind}_reversed"] = int(reversed_.get(kind, 0))
        net[kind] = report.flows[str(kind)] - report.flows[f"{kind}_reversed"]
    # Awards bring points in; deductions, redemptions and expiry take them out.
    report.outstanding_expected = (
        net[Kind.AWARD] - net[Kind.DEDUCTION] - net[Kind.REDEMPTION] - net[Kind.EXPIRY]
    )
    return report
