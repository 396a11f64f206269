"""The reconciliation's checks (对账): every cached balance against its entries, and the flows.

Reads only (the service `credit.services.reconciliation` decides full or incremental,
opens the snapshot and writes the checkpoint). Two ways to know what each account's
entries add up to:

- full: group every entry by account;
- incremental: the checkpoint's balance plus the entries after its `last_entry_id`.

Both compare every resident account's cached balance, and both report the flows (per
kind, and reversals per the kind they undo) with the outstanding they imply. When the
service passes a fence (an entry id below which nothing is still to commit), they also
return the sums up to it, which the service records as the next checkpoint.

On PostgreSQL the checks are a few statements whose reads share one snapshot (the
service's REPEATABLE READ transaction); elsewhere (SQLite) grouped ORM sums.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet, Sum

from credit.models import LedgerCheckpoint, LedgerCheckpointBalance, PointsAccount, PointsEntry

Kind = PointsEntry.Kind
_FLOW_KINDS = (Kind.AWARD, Kind.DEDUCTION, Kind.REDEMPTION, Kind.EXPIRY)
#: The full check's per-account sums on PostgreSQL: the service writes a checkpoint
#: from the very sums the check proved, in the same transaction.
SUMS_TABLE = "credit_reconcile_sums"


@dataclass
class Reconciliation:
    """What `credit_reconcile` proves: cached balances and the flows add up."""

    accounts_checked: int = 0
    drifted: list[tuple[int, int, int]] = field(default_factory=list)  # (account, cached, entries)
    flows: dict[str, int] = field(default_factory=dict)
    outstanding_cached: int = 0
    outstanding_expected: int = 0
    full: bool = True
    since_entry_id: int = 0  # incremental: the checkpoint's last entry it started from
    new_entries: int = 0  # incremental: entries after the checkpoint
    checkpoint_entry_id: int | None = None  # the checkpoint this run wrote (None: none)

    @property
    def ok(self) -> bool:
        return not self.drifted and self.outstanding_cached == self.outstanding_expected


@dataclass
class FencedSums:
    """The ledger's sums up to the fence: what a new checkpoint records."""

    fence: int
    flows: dict[str, int]
    entries: int


def _flows(gross: Mapping[str, Any], reversed_: Mapping[str, Any]) -> dict[str, int]:
    """The report's flow figures from per-kind totals (reversals keyed by the original's kind)."""
    flows: dict[str, int] = {}
    for kind in _FLOW_KINDS:
        flows[str(kind)] = int(gross.get(kind) or 0)
        flows[f"{kind}_reversed"] = int(reversed_.get(kind) or 0)
    return flows


def _plus(base: Mapping[str, Any], more: Mapping[str, int], sign: int = 1) -> dict[str, int]:
    """`base` + sign × `more`, figure by figure (`more` has them all: see `_flows`)."""
    return {name: int(base.get(name) or 0) + sign * value for name, value in more.items()}


def _with_flows(report: Reconciliation, flows: dict[str, int]) -> Reconciliation:
    """Set the flows and the outstanding they imply: awards in; the rest out."""
    net = {kind: flows[str(kind)] - flows[f"{kind}_reversed"] for kind in _FLOW_KINDS}
    report.flows = flows
    report.outstanding_expected = (
        net[Kind.AWARD] - net[Kind.DEDUCTION] - net[Kind.REDEMPTION] - net[Kind.EXPIRY]
    )
    return report


def reconciliation_full(*, fence: int | None) -> tuple[Reconciliation, FencedSums | None]:
    """Every entry added up per account against the cached balances (and the sums at `fence`)."""
    if connection.vendor == "postgresql":
        return _full_postgres(fence)
    return _full_orm(fence)


def reconciliation_incremental(
    *, checkpoint: LedgerCheckpoint, fence: int | None
) -> tuple[Reconciliation, FencedSums | None]:
    """The checkpoint plus the newer entries against every cached balance (and sums at `fence`)."""
    if connection.vendor == "postgresql":
        return _incremental_postgres(checkpoint, fence)
    return _incremental_orm(checkpoint, fence)


# --- the portable checks (SQLite) -----------------------------------------------------


def entry_sums(entries: QuerySet[PointsEntry]) -> dict[int, int]:
    """Net points per resident account over `entries` (credits − debits)."""
    resident = PointsAccount.Kind.RESIDENT
    sums: dict[int, int] = {}
    for side, sign in (("credit_account", 1), ("debit_account", -1)):
        grouped = (
            entries.filter(**{f"{side}__kind": resident})
            .values_list(side)
            .annotate(total=Sum("amount"))
            .values_list(side, "total")
        )
        for account_id, total in grouped:
            sums[account_id] = sums.get(account_id, 0) + sign * int(total)
    return sums


def _kind_flows(entries: QuerySet[PointsEntry]) -> dict[str, int]:
    """The flow figures of `entries`."""
    gross = dict(
        entries.exclude(kind=Kind.REVERSAL)
        .values_list("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    )
    reversed_ = dict(
        entries.filter(kind=Kind.REVERSAL)
        .values_list("reverses__kind")
        .annotate(total=Sum("amount"))
        .values_list("reverses__kind", "total")
    )
    return _flows(gross, reversed_)


def _compare(report: Reconciliation, expected: Mapping[int, int]) -> Reconciliation:
    """Every resident account's cached balance against `expected` (absent: 0)."""
    for account_id, cached in (
        PointsAccount.objects.filter(kind=PointsAccount.Kind.RESIDENT)
        .order_by("id")
        .values_list("id", "balance")
    ):
        report.accounts_checked += 1
        report.outstanding_cached += cached
        if cached != expected.get(account_id, 0):
            report.drifted.append((account_id, cached, expected.get(account_id, 0)))
    return report


def _reconciliation_orm() -> Reconciliation:
    """The full check with grouped ORM sums: a handful of queries for any ledger size."""
    report = _compare(Reconciliation(), entry_sums(PointsEntry.objects.all()))
    return _with_flows(report, _kind_flows(PointsEntry.objects.all()))


def _fenced_orm(
    fence: int | None, after: QuerySet[PointsEntry], report: Reconciliation, entries: int
) -> FencedSums | None:
    """The report's sums less those of the entries after the fence (among `after`)."""
    if fence is None:
        return None
    beyond = after.filter(id__gt=fence)
    return FencedSums(
        fence=fence,
        flows=_plus(report.flows, _kind_flows(beyond), sign=-1),
        entries=entries - beyond.count(),
    )


def _full_orm(fence: int | None) -> tuple[Reconciliation, FencedSums | None]:
    report = _reconciliation_orm()
    entries = PointsEntry.objects.all()
    return report, _fenced_orm(fence, entries, report, entries.count())


def _incremental_orm(
    checkpoint: LedgerCheckpoint, fence: int | None
) -> tuple[Reconciliation, FencedSums | None]:
    since = checkpoint.last_entry_id
    newer = PointsEntry.objects.filter(id__gt=since)
    expected = dict(LedgerCheckpointBalance.objects.values_list("account_id", "balance"))
    for account_id, net in entry_sums(newer).items():
        expected[account_id] = expected.get(account_id, 0) + net
    report = Reconciliation(full=False, since_entry_id=since, new_entries=newer.count())
    _compare(report, expected)
    _with_flows(report, _plus(checkpoint.flows, _kind_flows(newer)))
    if fence is not None and fence <= since:
        fence = None  # nothing to move
    return report, _fenced_orm(fence, newer, report, checkpoint.entries_count + report.new_entries)


# --- PostgreSQL -----------------------------------------------------------------------

_SET_LOCAL = """
    SELECT current_setting(name), set_config(name, value, true)
    FROM unnest(%s::text[], %s::text[]) AS setting (name, value)
"""


@contextmanager
def local_settings(cursor: CursorWrapper, settings: dict[str, str]) -> Iterator[None]:
    """PostgreSQL settings for this transaction only, put back after (inside a caller's too)."""
    names, values = list(settings), list(settings.values())
    # set_config(…, true) is SET LOCAL: over at the end of this transaction, or put back
    # below when it runs inside a caller's transaction.
    cursor.execute(_SET_LOCAL, [names, values])
    previous = [was for was, _now in cursor.fetchall()]
    yield
    cursor.execute(_SET_LOCAL, [names, previous])


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
    {where}
    GROUP BY 1
"""
_SUMS = f"CREATE TEMPORARY TABLE {SUMS_TABLE} ON COMMIT DROP AS {{by_account}}"
_DROP_SUMS = f"DROP TABLE IF EXISTS {SUMS_TABLE}"
# Count, outstanding and the drifted accounts (only those come back), one pass over the
# resident accounts joined with what their entries say (`expected`).
_COMPARE = """
    WITH {delta}residents AS (
        SELECT a.id, a.balance, {expected} AS from_entries
        FROM credit_pointsaccount a
        {joins}
        WHERE a.kind = %(resident)s
    )
    SELECT
        COUNT(*),
        COALESCE(SUM(balance), 0),
        COALESCE(
            json_agg(json_build_array(id, balance, from_entries) ORDER BY id)
                FILTER (WHERE balance <> from_entries),
            '[]'
        )
    FROM residents
"""
_COMPARE_FULL = _COMPARE.format(
    delta="",
    expected="COALESCE(s.net, 0)",
    joins=f"LEFT JOIN {SUMS_TABLE} s ON s.account_id = a.id",
)
# The accounts joined with their checkpoint balances (a hash join of two 100k-row scans)
# and with the entries after the checkpoint, found by primary-key range and filed under
# both sides (few rows: the unpivot costs nothing here).
_COMPARE_INCREMENTAL = _COMPARE.format(
    delta="delta AS MATERIALIZED (" + _BOTH_SIDES.format(where="WHERE e.id > %(since)s") + "), ",
    expected="COALESCE(c.balance, 0) + COALESCE(d.net, 0)",
    joins="""
        LEFT JOIN credit_ledgercheckpointbalance c ON c.account_id = a.id
        LEFT JOIN delta d ON d.account_id = a.id
    """,
)
# Per-kind totals and counts of the entries after `since` (0: all of them). Reversals are
# few and found by the unique index on `reverses_id` (the check constraint makes
# "reverses something" and kind = reversal the same rows).
_FLOWS = """
    SELECT
        (
            SELECT COALESCE(json_object_agg(kind, json_build_array(total, entries)), '{}')
            FROM (
                SELECT kind, SUM(amount) AS total, COUNT(*) AS entries
                FROM credit_pointsentry
                WHERE id > %(since)s
                GROUP BY kind
            ) AS k
        ),
        (
            SELECT COALESCE(json_object_agg(kind, total), '{}')
            FROM (
                SELECT original.kind, SUM(r.amount) AS total
                FROM credit_pointsentry r
                JOIN credit_pointsentry original ON original.id = r.reverses_id
                WHERE r.reverses_id IS NOT NULL AND r.id > %(since)s
                GROUP BY original.kind
            ) AS k
        )
"""
# The grouped scan has a group per account (100k): more than the default work_mem holds
# without spilling, and more than the planner's default costs parallelise. The hash of
# the accounts (100k) does not fit the default work_mem either.
_SETTINGS = {"work_mem": "64MB", "parallel_setup_cost": "0", "parallel_tuple_cost": "0"}


def _params(**values: int) -> dict[str, Any]:
    system = list(
        PointsAccount.objects.exclude(kind=PointsAccount.Kind.RESIDENT).values_list("id", flat=True)
    )
    return {
        "system": system,
        "resident": PointsAccount.Kind.RESIDENT,
        "since": 0,
        **values,
    }


def _flows_after(cursor: CursorWrapper, since: int) -> tuple[dict[str, int], int]:
    """Flows and number of the entries after `since`."""
    cursor.execute(_FLOWS, {"since": since})
    by_kind, reversed_ = cursor.fetchone()
    gross = {kind: total for kind, (total, _entries) in by_kind.items()}
    return _flows(gross, reversed_), sum(entries for _total, entries in by_kind.values())


def _compared(cursor: CursorWrapper, **fields: Any) -> Reconciliation:
    accounts, outstanding, drifted = cursor.fetchone()
    return Reconciliation(
        accounts_checked=accounts,
        drifted=[(int(a), int(c), int(e)) for a, c, e in drifted],
        outstanding_cached=int(outstanding),
        **fields,
    )


def _fenced_postgres(
    cursor: CursorWrapper, fence: int | None, report: Reconciliation, entries: int
) -> FencedSums | None:
    """The sums up to the fence: the report's, less the few entries after the fence."""
    if fence is None:
        return None
    beyond, beyond_entries = _flows_after(cursor, fence)
    return FencedSums(
        fence=fence, flows=_plus(report.flows, beyond, sign=-1), entries=entries - beyond_entries
    )


def _full_postgres(fence: int | None) -> tuple[Reconciliation, FencedSums | None]:
    """Group every entry into SUMS_TABLE, then compare every account with it.

    Inside a transaction only: the table is dropped at its end.
    """
    params = _params()
    with connection.cursor() as cursor, local_settings(cursor, _SETTINGS):
        cursor.execute(_DROP_SUMS)  # a caller's transaction may hold one from a run before
        cursor.execute(_SUMS.format(by_account=_RESIDENT_SIDE), params)
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {SUMS_TABLE} WHERE account_id IS NULL)")  # noqa: S608
        if cursor.fetchone()[0]:  # an entry between two residents: file it under both sides
            cursor.execute(_DROP_SUMS)
            cursor.execute(_SUMS.format(by_account=_BOTH_SIDES.format(where="")), params)
        cursor.execute(_COMPARE_FULL, params)
        report = _compared(cursor)
        flows, entries = _flows_after(cursor, 0)
        _with_flows(report, flows)
        return report, _fenced_postgres(cursor, fence, report, entries)


def sums_drop() -> None:
    """Drop the full check's per-account sums (they also go at the end of the transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(_DROP_SUMS)


def _reconciliation_postgres() -> Reconciliation:
    """The full check as `_reconciliation_orm` makes it, in PostgreSQL statements."""
    with transaction.atomic():  # the temporary table lives as long as the transaction
        report, _fenced = _full_postgres(None)
        sums_drop()
    return report


def _incremental_postgres(
    checkpoint: LedgerCheckpoint, fence: int | None
) -> tuple[Reconciliation, FencedSums | None]:
    since = checkpoint.last_entry_id
    with connection.cursor() as cursor, local_settings(cursor, _SETTINGS):
        cursor.execute(_COMPARE_INCREMENTAL, _params(since=since))
        report = _compared(cursor, full=False, since_entry_id=since)
        flows, report.new_entries = _flows_after(cursor, since)
        _with_flows(report, _plus(checkpoint.flows, flows))
        if fence is not None and fence <= since:
            fence = None  # nothing to move
        return report, _fenced_postgres(
            cursor, fence, report, checkpoint.entries_count + report.new_entries
        )
