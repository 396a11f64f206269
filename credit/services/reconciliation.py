"""The reconciliation (对账) and its checkpoint: `manage.py credit_reconcile` and the nightly task.

`ledger_reconciliation` proves, in one snapshot, that every resident account's cached
balance equals the sum of its entries and that awards − deductions − redemptions − expiry
(each net of its reversals) equals the outstanding balances (DESIGN §4); the checks
themselves are in `credit.selectors.reconciliation`.

Full or incremental. A full check adds up every entry. An incremental one starts from the
checkpoint (`LedgerCheckpoint`): the sums, per kind and per resident account, of the
entries up to `last_entry_id`, as a passing check left them. It adds only the newer
entries to them and still compares every account's cached balance: on PostgreSQL a join
of the accounts with their checkpoint balances and a small range of new entries by
primary key, instead of grouping every entry (1,000,000 entries into 100,000 accounts
cost several times a plain SUM over them). A passing check moves the checkpoint forward;
a drift never does. What only a full check sees is history changed behind the
checkpoint's back (an old entry, or a checkpoint balance changed together with the cached
one): the nightly task runs the full check weekly, `--full` on demand.

Where the checkpoint may stop. Entry ids come from a sequence when a transaction inserts,
and transactions commit in any order: entry 100 may become visible after 101. A checkpoint
at 101 written while 100 is still in flight would leave 100 out of every later sum (its
account would show as drifted). So on PostgreSQL the checkpoint only moves to a fence:
the highest entry id at a moment when no transaction that inserted an entry is open.
`_entry_fence` makes that moment with a SHARE lock on the entries table: it waits for every
open inserting transaction to end, keeps new ones out while it reads MAX(id), and is let
go at once; the snapshot taken after it sees every entry up to the fence, for good. The
alternatives fall short: a margin by `created_at` trusts the time callers pass to the
services (backdated, or in seeded data ahead of the clock), and the snapshot's xmin tells
which transactions are running but not which ids they hold. The lock is taken only when
the checkpoint is due to move (at most every CHECKPOINT_EVERY) and gives up after
FENCE_LOCK_TIMEOUT; then the check runs and the checkpoint stays where it is. SQLite has
one writer at a time, which numbers rows after the last committed one: there the
highest id in the snapshot is the fence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from credit.models import LedgerCheckpoint, LedgerCheckpointBalance, PointsAccount, PointsEntry
from credit.selectors.reconciliation import (
    SUMS_TABLE,
    FencedSums,
    Reconciliation,
    entry_sums,
    local_settings,
    reconciliation_full,
    reconciliation_incremental,
    sums_drop,
)

__all__ = ["Reconciliation", "ledger_reconcile_scheduled", "ledger_reconciliation"]

#: The checkpoint moves forward at most this often (each move takes the fence lock).
CHECKPOINT_EVERY = dt.timedelta(hours=1)
#: The nightly task runs the full check when the last one is older than this.
FULL_EVERY = dt.timedelta(days=7)
#: How long the fence waits for open inserting transactions before giving up.
FENCE_LOCK_TIMEOUT = "2s"
_CHECKPOINT_PK = 1  # the one checkpoint row (constraint `checkpoint_single_row`)


def ledger_reconciliation(*, full: bool = False, now: dt.datetime | None = None) -> Reconciliation:
    """Prove the ledger adds up, from the checkpoint (or `full`); move the checkpoint on."""
    now = now or timezone.now()
    postgres = connection.vendor == "postgresql"
    known = LedgerCheckpoint.objects.filter(pk=_CHECKPOINT_PK).first()
    move = full or known is None or now - known.created_at >= CHECKPOINT_EVERY
    fence = _entry_fence() if move and postgres else None
    with _snapshot():
        # Read again in the snapshot: the header and its balance rows must agree.
        checkpoint = None if full else LedgerCheckpoint.objects.filter(pk=_CHECKPOINT_PK).first()
        if move and not postgres:
            fence = PointsEntry.objects.aggregate(last=Max("id"))["last"] or 0
        if checkpoint is None:
            report, fenced = reconciliation_full(fence=fence)
        else:
            report, fenced = reconciliation_incremental(checkpoint=checkpoint, fence=fence)
        if report.ok and fenced is not None:
            report.checkpoint_entry_id = _checkpoint_write(
                checkpoint=checkpoint, fenced=fenced, now=now
            )
        if postgres and checkpoint is None:
            sums_drop()
    return report


def ledger_reconcile_scheduled(*, now: dt.datetime) -> Reconciliation:
    """The nightly run: incremental, and the full check when the last one is a week old."""
    checkpoint = LedgerCheckpoint.objects.filter(pk=_CHECKPOINT_PK).first()
    full = checkpoint is None or now - checkpoint.full_at >= FULL_EVERY
    return ledger_reconciliation(full=full, now=now)


@contextmanager
def _snapshot() -> Iterator[None]:
    """One transaction whose reads all see one snapshot (REPEATABLE READ on PostgreSQL).

    Inside a caller's transaction (tests) it runs in that one, at its isolation level.
    """
    if connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with transaction.atomic(durable=True):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _entry_fence() -> int | None:
    """The highest entry id with nothing below it still to commit (None: gave up waiting).

    SHARE conflicts with the ROW EXCLUSIVE lock an INSERT holds until its transaction
    ends: once granted, no transaction that took an entry id is open, and none can take
    one until this short transaction ends.
    """
    table = connection.ops.quote_name(PointsEntry._meta.db_table)
    try:
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            local_settings(cursor, {"lock_timeout": FENCE_LOCK_TIMEOUT}),
        ):
            cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            (fence,) = cursor.fetchone()
    except DatabaseError:  # lock_timeout: a long writer is open; move on another night
        return None
    return int(fence)


def _checkpoint_write(
    *, checkpoint: LedgerCheckpoint | None, fenced: FencedSums, now: dt.datetime
) -> int | None:
    """Record the sums up to the fence as the checkpoint; None when another run got there.

    After a full check (`checkpoint` None) the balances are set to the full sums; after an
    incremental one only the accounts with entries between the two checkpoints change.
    """
    values = {
        "created_at": now,
        "last_entry_id": fenced.fence,
        "entries_count": fenced.entries,
        "flows": fenced.flows,
        "full": checkpoint is None,
    }
    try:
        with transaction.atomic():
            # The header row first: two runs at once meet there. Under REPEATABLE READ
            # a row another run changed since the snapshot raises a serialization
            # failure; two first inserts, an integrity error. Either way one run wins.
            if checkpoint is None:
                LedgerCheckpoint.objects.update_or_create(
                    pk=_CHECKPOINT_PK, defaults={**values, "full_at": now}
                )
                _balances_set(fenced.fence)
            else:
                moved = LedgerCheckpoint.objects.filter(
                    pk=_CHECKPOINT_PK, last_entry_id=checkpoint.last_entry_id
                ).update(**values)
                if moved != 1:
                    return None
                _balances_advance(checkpoint.last_entry_id, fenced.fence)
    except DatabaseError:
        return None
    return fenced.fence


# After a full check: each resident account's sum up to the fence is its full sum less
# the few entries after the fence. Only rows that differ are written (after a passing
# incremental night, next to none), rows of accounts without entries go.
_SET_POSTGRES = f"""
    WITH beyond AS (
        SELECT side.account_id, SUM(side.net) AS net
        FROM credit_pointsentry e
        CROSS JOIN LATERAL (
            VALUES (e.credit_account_id, e.amount), (e.debit_account_id, -e.amount)
        ) AS side (account_id, net)
        WHERE e.id > %(fence)s
        GROUP BY 1
    ),
    target AS (
        SELECT s.account_id, s.net - COALESCE(b.net, 0) AS balance
        FROM {SUMS_TABLE} s
        JOIN credit_pointsaccount a ON a.id = s.account_id AND a.kind = %(resident)s
        LEFT JOIN beyond b ON b.account_id = s.account_id
    )
    INSERT INTO credit_ledgercheckpointbalance AS c (account_id, balance)
    SELECT t.account_id, t.balance
    FROM target t
    LEFT JOIN credit_ledgercheckpointbalance old ON old.account_id = t.account_id
    WHERE old.balance IS DISTINCT FROM t.balance
    ON CONFLICT (account_id) DO UPDATE SET balance = EXCLUDED.balance
"""  # noqa: S608
_SET_POSTGRES_DELETE = f"""
    DELETE FROM credit_ledgercheckpointbalance c
    WHERE NOT EXISTS (SELECT 1 FROM {SUMS_TABLE} s WHERE s.account_id = c.account_id)
"""  # noqa: S608


def _balances_set(fence: int) -> None:
    """Make the checkpoint balances the entries' sums up to the fence."""
    if connection.vendor == "postgresql":
        # From the per-account sums the full check just proved (same transaction).
        with connection.cursor() as cursor:
            cursor.execute(
                _SET_POSTGRES, {"fence": fence, "resident": str(PointsAccount.Kind.RESIDENT)}
            )
            cursor.execute(_SET_POSTGRES_DELETE)
        return
    LedgerCheckpointBalance.objects.all().delete()
    LedgerCheckpointBalance.objects.bulk_create(
        LedgerCheckpointBalance(account_id=account_id, balance=balance)
        for account_id, balance in entry_sums(PointsEntry.objects.filter(id__lte=fence)).items()
    )


_ADVANCE_POSTGRES = """
    INSERT INTO credit_ledgercheckpointbalance AS c (account_id, balance)
    SELECT side.account_id, SUM(side.net)
    FROM credit_pointsentry e
    CROSS JOIN LATERAL (
        VALUES (e.credit_account_id, e.amount), (e.debit_account_id, -e.amount)
    ) AS side (account_id, net)
    JOIN credit_pointsaccount a ON a.id = side.account_id AND a.kind = %(resident)s
    WHERE e.id > %(since)s AND e.id <= %(fence)s
    GROUP BY side.account_id
    ON CONFLICT (account_id) DO UPDATE SET balance = c.balance + EXCLUDED.balance
"""


def _balances_advance(since: int, fence: int) -> None:
    """Add the entries after the old checkpoint, up to the fence, to the balances."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _ADVANCE_POSTGRES,
                {"since": since, "fence": fence, "resident": PointsAccount.Kind.RESIDENT},
            )
        return
    delta = entry_sums(PointsEntry.objects.filter(id__gt=since, id__lte=fence))
    for account_id, net in delta.items():
        if not LedgerCheckpointBalance.objects.filter(account_id=account_id).update(
            balance=F("balance") + net
        ):
            LedgerCheckpointBalance.objects.create(account_id=account_id, balance=net)
