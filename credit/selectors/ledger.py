"""Reads of the points ledger. Every read a page or API makes takes the acting user."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
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

    On PostgreSQL one statement (one snapshot, so a write racing the check cannot show
    up as drift) that sends back only the drifted accounts; elsewhere grouped ORM sums.
    """
    if connection.vendor == "postgresql":
        return _reconciliation_postgres()
    return _reconciliation_orm()


def _flows_into(report: Reconciliation, gross: dict[str, int], reversed_: dict[str, int]) -> None:
    """Fill the flow figures and the outstanding they imply from per-kind totals."""
    net = {}
    for kind in (Kind.AWARD, Kind.DEDUCTION, Kind.REDEMPTION, Kind.EXPIRY):
        report.flows[str(kind)] = int(gross.get(kind, 0))
        report.flows[f"{kind}_reversed"] = int(reversed_.get(kind, 0))
        net[kind] = report.flows[str(kind)] - report.flows[f"{kind}_reversed"]
    # Awards bring points in; deductions, redemptions and expiry take them out.
    report.outstanding_expected = (
        net[Kind.AWARD] - net[Kind.DEDUCTION] - net[Kind.REDEMPTION] - net[Kind.EXPIRY]
    )


def _reconciliation_orm() -> Reconciliation:
    """The portable check: grouped sums, a handful of queries for any ledger size."""
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
    for account_id, cached in (
        PointsAccount.objects.filter(kind=PointsAccount.Kind.RESIDENT)
        .order_by("id")
        .values_list("id", "balance")
    ):
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
    _flows_into(report, gross, reversed_)
    return report


# Every entry the services write has a system account (issuance, supermarket, expired)
# on one side and at most one resident on the other, so one pass can file each entry
# under its resident side alone: a grouped scan of N rows, where crediting both sides
# (an unpivot) groups 2N rows through a nested loop and takes about twice as long. An
# entry between two residents gets no account (NULL) and sends the check to the unpivot.
_RESIDENT_SIDE = """
    SELECT
        CASE
            WHEN e.credit_account_id = ANY(%(system)s) THEN e.debit_account_id
            WHEN e.debit_account_id = ANY(%(system)s) THEN e.credit_account_id
        END AS account_id,
        SUM(CASE WHEN e.credit_account_id = ANY(%(system)s) THEN -e.amount ELSE e.amount END)
            AS net
    FROM credit_pointsentry e
    GROUP BY 1
"""
_BOTH_SIDES = """
    SELECT side.account_id, SUM(side.net) AS net
    FROM credit_pointsentry e
    CROSS JOIN LATERAL (
        VALUES (e.credit_account_id, e.amount), (e.debit_account_id, -e.amount)
    ) AS side (account_id, net)
    GROUP BY 1
"""
# One statement, so balances and entries are read in one snapshot. Only the drifted
# accounts come back. Reversals are few and found by the unique index on `reverses_id`
# (the check constraint makes "reverses something" and kind = reversal the same rows).
_RECONCILE = """
    WITH by_account AS MATERIALIZED ({by_account}),
    residents AS (
        SELECT a.id, a.balance, COALESCE(b.net, 0) AS from_entries
        FROM credit_pointsaccount a
        LEFT JOIN by_account b ON b.account_id = a.id
        WHERE a.kind = %(resident)s
    )
    SELECT
        (SELECT COUNT(*) FROM residents),
        (SELECT COALESCE(SUM(balance), 0) FROM residents),
        (
            SELECT COALESCE(json_agg(json_build_array(id, balance, from_entries) ORDER BY id), '[]')
            FROM residents
            WHERE balance <> from_entries
        ),
        (
            SELECT COALESCE(json_object_agg(kind, total), '{{}}')
            FROM (SELECT kind, SUM(amount) AS total FROM credit_pointsentry GROUP BY kind) AS k
            WHERE kind <> %(reversal)s
        ),
        (
            SELECT COALESCE(json_object_agg(kind, total), '{{}}')
            FROM (
                SELECT original.kind, SUM(r.amount) AS total
                FROM credit_pointsentry r
                JOIN credit_pointsentry original ON original.id = r.reverses_id
                WHERE r.reverses_id IS NOT NULL
                GROUP BY original.kind
            ) AS k
        ),
        EXISTS (SELECT 1 FROM by_account WHERE account_id IS NULL)
"""
# The grouped scan has a group per account (100k): more than the default work_mem holds
# without spilling, and more than the planner's default costs parallelise.
_RECONCILE_SETTINGS = {
    "work_mem": "64MB",
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
}
_SETTINGS_SET = """
    SELECT current_setting(name), set_config(name, value, true)
    FROM unnest(%s::text[], %s::text[]) AS setting (name, value)
"""


def _reconciliation_postgres() -> Reconciliation:
    """The same check as `_reconciliation_orm` in one PostgreSQL statement."""
    system = list(
        PointsAccount.objects.exclude(kind=PointsAccount.Kind.RESIDENT).values_list("id", flat=True)
    )
    params: dict[str, Any] = {
        "system": system,
        "resident": PointsAccount.Kind.RESIDENT,
        "reversal": Kind.REVERSAL,
    }
    names, values = list(_RECONCILE_SETTINGS), list(_RECONCILE_SETTINGS.values())
    with transaction.atomic(), connection.cursor() as cursor:
        # set_config(…, true) is SET LOCAL: over at the end of this transaction, or put
        # back below when it is a savepoint in a caller's transaction.
        cursor.execute(_SETTINGS_SET, [names, values])
        previous = [was for was, _now in cursor.fetchall()]
        cursor.execute(_RECONCILE.format(by_account=_RESIDENT_SIDE), params)
        row = cursor.fetchone()
        if row[-1]:  # an entry between two residents: file it under both sides
            cursor.execute(_RECONCILE.format(by_account=_BOTH_SIDES), params)
            row = cursor.fetchone()
        cursor.execute(_SETTINGS_SET, [names, previous])
    accounts, outstanding, drifted, gross, reversed_, _transfers = row
    report = Reconciliation(
        accounts_checked=accounts,
        drifted=[(int(a), int(c), int(e)) for a, c, e in drifted],
        outstanding_cached=int(outstanding),
    )
    _flows_into(report, gross, reversed_)
    return report
