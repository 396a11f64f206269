"""The reconciliation: full and incremental checks, the checkpoint, and PostgreSQL's statements.

The checkpoint tests run on SQLite and, with DATABASE_URL set, on PostgreSQL; the ones
comparing the PostgreSQL statements with the portable ORM check need PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from community.tests.factories import ResidentFactory
from credit import services
from credit.models import LedgerCheckpoint, LedgerCheckpointBalance, PointsAccount, PointsEntry
from credit.selectors.reconciliation import (
    _incremental_orm,
    _incremental_postgres,
    _reconciliation_orm,
    _reconciliation_postgres,
)
from credit.services import ledger, reconciliation
from credit.services.reconciliation import ledger_reconcile_scheduled, ledger_reconciliation
from credit.tasks import ledger_reconcile_task
from credit.tests.factories import ScoringRuleFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db]

NOW = dt.datetime(2026, 11, 6, 10, 0, tzinfo=dt.UTC)
SOON = NOW + dt.timedelta(minutes=10)  # before the checkpoint is due to move
LATER = NOW + dt.timedelta(hours=2)  # after


def expire(resident: Any, amount: int, key: str) -> PointsEntry:
    """Move points to the expired account: the ledger has no expiry service yet."""
    with transaction.atomic():
        account = ledger.account_for(resident=resident)
        expired = ledger.system_account(
            community_id=account.community_id, kind=PointsAccount.Kind.EXPIRED
        )
        ledger._lock([account])
        return ledger._move(
            kind=PointsEntry.Kind.EXPIRY,
            debit=account,
            credit=expired,
            amount=amount,
            key=key,
            now=NOW,
        )


def reverse(entry: PointsEntry) -> PointsEntry:
    with transaction.atomic():
        return services.points_reverse(entry=entry, now=NOW)


def build_ledger(world: Any) -> None:
    """Awards, deductions, redemptions and expiries in two communities, each kind reversed."""
    good = ScoringRuleFactory(street=world.street, points=10, unit="event")
    bad = ScoringRuleFactory(street=world.street, category="misconduct", points=-3)
    for resident in (world.resident_a, world.resident_b, world.other_resident):
        prefix = f"r{resident.pk}"
        for n in range(4):
            services.points_award(resident=resident, rule=good, key=f"{prefix}-a{n}", now=NOW)
        deduction = services.points_deduct(resident=resident, rule=bad, key=f"{prefix}-d", now=NOW)
        services.points_deduct(resident=resident, rule=bad, key=f"{prefix}-d2", now=NOW)
        spent = services.points_spend(resident=resident, amount=5, key=f"{prefix}-s", now=NOW)
        services.points_spend(resident=resident, amount=2, key=f"{prefix}-s2", now=NOW)
        expired = expire(resident, 4, f"{prefix}-e")
        expire(resident, 1, f"{prefix}-e2")
        award = services.points_award(resident=resident, rule=good, key=f"{prefix}-a9", now=NOW)
        assert deduction is not None
        for entry in (award, deduction, spent, expired):
            reverse(entry)


def more_entries(world: Any, tag: str) -> None:
    """New activity of resident A only: an award, a redemption, a reversal."""
    rule = ScoringRuleFactory(street=world.street, points=8, unit="event")
    award = services.points_award(resident=world.resident_a, rule=rule, key=f"{tag}-a", now=NOW)
    services.points_spend(resident=world.resident_a, amount=3, key=f"{tag}-s", now=NOW)
    services.points_award(resident=world.resident_a, rule=rule, key=f"{tag}-b", now=NOW)
    reverse(award)


def account(resident: Any) -> PointsAccount:
    return PointsAccount.objects.get(resident=resident)


def tamper(resident: Any, by: int) -> PointsAccount:
    """Change a cached balance behind the ledger's back (no entry)."""
    before = account(resident)
    PointsAccount.objects.filter(pk=before.pk).update(balance=before.balance + by)
    return before


def last_entry_id() -> int:
    return PointsEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def command(*args: str) -> str:
    out = StringIO()
    call_command("credit_reconcile", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- the checkpoint (SQLite and PostgreSQL) -----------------------------------------------


def test_the_first_run_is_full_and_leaves_a_checkpoint(world: Any) -> None:
    build_ledger(world)
    report = ledger_reconciliation(now=NOW)
    assert report.ok and report.full
    assert report.checkpoint_entry_id == last_entry_id()
    checkpoint = LedgerCheckpoint.objects.get()
    assert checkpoint.full and checkpoint.full_at == NOW
    assert checkpoint.last_entry_id == last_entry_id()
    assert checkpoint.entries_count == PointsEntry.objects.count()
    assert checkpoint.flows == report.flows == _reconciliation_orm().flows
    balances = dict(LedgerCheckpointBalance.objects.values_list("account_id", "balance"))
    cached = dict(
        PointsAccount.objects.filter(kind="resident").values_list("id", "balance").order_by("id")
    )
    assert balances == cached


def test_incremental_run_adds_new_entries_to_the_checkpoint_and_reconciles(world: Any) -> None:
    build_ledger(world)
    first = ledger_reconciliation(now=NOW).checkpoint_entry_id
    more_entries(world, "x")
    report = ledger_reconciliation(now=SOON)
    assert report.ok and not report.full
    assert (report.since_entry_id, report.new_entries) == (first, 4)
    assert report.accounts_checked == 3  # every account, not only A's
    full = _reconciliation_orm()
    assert (report.flows, report.outstanding_expected) == (full.flows, full.outstanding_expected)
    assert report.checkpoint_entry_id is None  # an hour has not passed: the checkpoint stays
    assert LedgerCheckpoint.objects.get().last_entry_id == first


def test_a_passing_incremental_run_moves_the_checkpoint_on(world: Any) -> None:
    build_ledger(world)
    ledger_reconciliation(now=NOW)
    more_entries(world, "x")
    moved = ledger_reconciliation(now=LATER)
    assert moved.ok and not moved.full
    assert moved.checkpoint_entry_id == last_entry_id()
    checkpoint = LedgerCheckpoint.objects.get()
    assert (checkpoint.last_entry_id, checkpoint.full) == (last_entry_id(), False)
    assert checkpoint.full_at == NOW  # still the last full check
    assert checkpoint.entries_count == PointsEntry.objects.count()
    assert LedgerCheckpointBalance.objects.get(account=account(world.resident_a)).balance == (
        account(world.resident_a).balance
    )
    after = ledger_reconciliation(now=LATER + dt.timedelta(minutes=1))
    assert after.ok and after.new_entries == 0
    assert after.flows == _reconciliation_orm().flows


def test_a_tampered_balance_is_caught_incrementally_even_without_new_entries(
    world: Any,
) -> None:
    build_ledger(world)
    ledger_reconciliation(now=NOW)
    more_entries(world, "x")  # resident A moves; B's tampered account has no new entry
    b = tamper(world.resident_b, 7)
    before = LedgerCheckpoint.objects.get()
    report = ledger_reconciliation(now=LATER)
    assert not report.full
    assert report.drifted == [(b.pk, b.balance + 7, b.balance)]
    assert not report.ok
    assert report.checkpoint_entry_id is None  # drift: the checkpoint does not move
    after = LedgerCheckpoint.objects.get()
    assert (after.last_entry_id, after.created_at) == (before.last_entry_id, before.created_at)


def test_a_tampered_checkpoint_is_told_from_the_ledger_by_the_full_check(world: Any) -> None:
    build_ledger(world)
    ledger_reconciliation(now=NOW)
    b = account(world.resident_b)
    LedgerCheckpointBalance.objects.filter(account=b).update(balance=b.balance + 5)
    newcomer = ledger.account_for(resident=ResidentFactory(household=world.household_a))
    LedgerCheckpointBalance.objects.create(account=newcomer, balance=4)  # has no entries
    incremental = ledger_reconciliation(now=SOON)
    assert incremental.drifted == [(b.pk, b.balance, b.balance + 5), (newcomer.pk, 0, 4)]
    # The full check adds up the entries themselves: the ledger is fine, and a fresh
    # checkpoint replaces the tampered one.
    with pytest.raises(CommandError):
        command()
    assert "full check" in command("--full")
    assert LedgerCheckpointBalance.objects.get(account=b).balance == b.balance
    assert not LedgerCheckpointBalance.objects.filter(account=newcomer).exists()
    assert ledger_reconciliation(now=SOON).ok


def test_history_changed_with_the_checkpoint_is_caught_by_full_only(world: Any) -> None:
    """The incremental check trusts the checkpoint: a cached balance and its checkpoint
    balance changed together pass it. The weekly (or --full) check does not."""
    build_ledger(world)
    ledger_reconciliation(now=NOW)
    b = tamper(world.resident_b, 5)
    LedgerCheckpointBalance.objects.filter(account=b).update(balance=b.balance + 5)
    LedgerCheckpoint.objects.update(
        flows={**LedgerCheckpoint.objects.get().flows, "award": b.balance + 5}
    )
    full = ledger_reconciliation(full=True, now=SOON)
    assert full.full
    assert full.drifted == [(b.pk, b.balance + 5, b.balance)]
    with pytest.raises(CommandError, match="drift"):
        command("--full")


def test_no_checkpoint_means_a_full_check(world: Any) -> None:
    build_ledger(world)
    out = command()
    assert "full check" in out and "ledger reconciles" in out
    assert LedgerCheckpoint.objects.get().full
    assert "incremental check" in command()


def test_drift_writes_no_checkpoint_and_the_command_exits_non_zero(world: Any) -> None:
    build_ledger(world)
    tamper(world.resident_a, -1)
    report = ledger_reconciliation(now=NOW)
    assert not report.ok and report.full and report.checkpoint_entry_id is None
    assert not LedgerCheckpoint.objects.exists()
    assert not LedgerCheckpointBalance.objects.exists()
    with pytest.raises(CommandError, match="no checkpoint written"):
        command()
    assert not LedgerCheckpoint.objects.exists()


def test_a_full_check_that_drifts_keeps_the_old_checkpoint(world: Any) -> None:
    build_ledger(world)
    ledger_reconciliation(now=NOW)
    more_entries(world, "x")
    tamper(world.resident_b, 2)
    assert not ledger_reconciliation(full=True, now=LATER).ok
    checkpoint = LedgerCheckpoint.objects.get()
    assert checkpoint.created_at == NOW and checkpoint.last_entry_id < last_entry_id()


def test_the_nightly_task_checks_incrementally_and_in_full_weekly(world: Any) -> None:
    build_ledger(world)
    assert ledger_reconcile_scheduled(now=NOW).full  # no checkpoint yet
    more_entries(world, "x")
    nightly = ledger_reconcile_scheduled(now=NOW + dt.timedelta(days=1))
    assert nightly.ok and not nightly.full
    assert LedgerCheckpoint.objects.get().full_at == NOW
    weekly = ledger_reconcile_scheduled(now=NOW + dt.timedelta(days=7))
    assert weekly.ok and weekly.full
    assert LedgerCheckpoint.objects.get().full_at == NOW + dt.timedelta(days=7)
    assert ledger_reconcile_task() is True
    tamper(world.resident_a, 1)
    assert ledger_reconcile_task() is False


# --- PostgreSQL's statements prove what the portable check proves ---------------------


def both_paths() -> tuple[Any, Any]:
    return _reconciliation_orm(), _reconciliation_postgres()


def test_postgres_statement_and_orm_agree_on_a_ledger_that_adds_up(
    require_postgres: None, world: Any
) -> None:
    build_ledger(world)
    orm, sql = both_paths()
    assert sql == orm
    assert sql.ok
    assert sql.accounts_checked == 3
    assert sql.flows == {
        "award": 150,
        "award_reversed": 30,
        "deduction": 18,
        "deduction_reversed": 9,
        "redemption": 21,
        "redemption_reversed": 15,
        "expiry": 15,
        "expiry_reversed": 12,
    }
    assert sql.outstanding_cached == sql.outstanding_expected == 120 - 9 - 6 - 3


def test_postgres_statement_reports_the_same_drift_as_the_orm(
    require_postgres: None, world: Any
) -> None:
    build_ledger(world)
    b = tamper(world.resident_b, 7)
    orm, sql = both_paths()
    assert sql == orm
    assert sql.drifted == [(b.pk, b.balance + 7, b.balance)]
    assert not sql.ok
    assert ledger_reconciliation() == sql


def test_postgres_incremental_statement_and_orm_agree(require_postgres: None, world: Any) -> None:
    build_ledger(world)
    ledger_reconciliation(now=NOW)
    more_entries(world, "x")
    checkpoint = LedgerCheckpoint.objects.get()
    orm, _ = _incremental_orm(checkpoint, None)
    sql, _ = _incremental_postgres(checkpoint, None)
    assert sql == orm and sql.ok and sql.new_entries == 4
    tamper(world.resident_b, 3)
    more_entries(world, "y")
    orm, _ = _incremental_orm(checkpoint, None)
    sql, _ = _incremental_postgres(checkpoint, None)
    assert sql == orm and len(sql.drifted) == 1


def test_an_entry_between_two_residents_is_checked_on_both_sides(
    require_postgres: None, world: Any
) -> None:
    """No service writes one, but if one is there the fast path's shortcut must not hide
    a debit side whose cached balance was never lowered."""
    build_ledger(world)
    a = ledger.account_for(resident=world.resident_a)
    b = ledger.account_for(resident=world.resident_b)
    with transaction.atomic():
        ledger._move(kind=PointsEntry.Kind.AWARD, debit=b, credit=a, amount=6, key="t", now=NOW)
    orm, sql = both_paths()
    assert sql == orm
    assert sql.drifted == []  # the flows are off: a transfer is no award
    PointsAccount.objects.filter(pk=b.pk).update(balance=b.balance + 6)
    orm, sql = both_paths()
    assert sql == orm
    assert sql.drifted == [(b.pk, b.balance + 6, b.balance)]


def test_postgres_statements_put_back_the_settings_they_change(
    require_postgres: None, world: Any
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        before = cursor.fetchone()
        _reconciliation_postgres()
        ledger_reconciliation(now=NOW)
        ledger_reconciliation(now=LATER)
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone() == before
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone() == ("0",)


# --- entries committed out of order (PostgreSQL) --------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_checkpoint_never_passes_an_entry_still_being_written(
    require_postgres: None, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entry N+1 is in flight while N+2 commits: the checkpoint must not move past N+1,
    or N+1 would be left out of every later sum and its account would show as drifted."""
    monkeypatch.setattr(reconciliation, "FENCE_LOCK_TIMEOUT", "200ms")
    rule = ScoringRuleFactory(street=world.street, points=10, unit="event")
    services.points_award(resident=world.resident_a, rule=rule, key="seed", now=NOW)
    ledger_reconciliation(now=NOW)
    inserted, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_award() -> None:
        try:
            with transaction.atomic(durable=True):
                services.points_award(resident=world.resident_a, rule=rule, key="slow", now=NOW)
                inserted.set()
                release.wait(timeout=30)
        except BaseException as exc:
            errors.append(exc)
            inserted.set()
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_award)
    writer.start()
    try:
        assert inserted.wait(timeout=30)
        with transaction.atomic(durable=True):
            services.points_award(resident=world.resident_b, rule=rule, key="fast", now=NOW)
        slow_id = PointsEntry.objects.get(idempotency_key="fast").pk - 1
        during = ledger_reconciliation(now=LATER)
        assert during.ok  # the slow entry and its balance are both unseen
        assert during.checkpoint_entry_id is None  # the fence gave up: no move
        assert LedgerCheckpoint.objects.get().last_entry_id < slow_id
    finally:
        release.set()
        writer.join(timeout=30)
    assert errors == []
    moved = ledger_reconciliation(now=LATER + dt.timedelta(hours=2))
    assert moved.ok and moved.checkpoint_entry_id == last_entry_id()
    assert LedgerCheckpoint.objects.get().entries_count == PointsEntry.objects.count()
    assert ledger_reconciliation(now=LATER + dt.timedelta(hours=4)).ok
