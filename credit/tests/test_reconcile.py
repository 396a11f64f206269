"""The reconciliation's PostgreSQL statement proves what the portable ORM check proves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction

from credit import services
from credit.models import PointsAccount, PointsEntry
from credit.selectors import ledger_reconciliation
from credit.selectors.ledger import _reconciliation_orm, _reconciliation_postgres
from credit.services import ledger
from credit.tests.factories import ScoringRuleFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db]

NOW = dt.datetime(2026, 11, 6, 10, 0, tzinfo=dt.UTC)


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
    account = PointsAccount.objects.get(resident=world.resident_b)
    PointsAccount.objects.filter(pk=account.pk).update(balance=account.balance + 7)
    orm, sql = both_paths()
    assert sql == orm
    assert sql.drifted == [(account.pk, account.balance + 7, account.balance)]
    assert not sql.ok
    assert ledger_reconciliation() == sql


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


def test_postgres_statement_puts_back_the_settings_it_changes(
    require_postgres: None, world: Any
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        before = cursor.fetchone()
        _reconciliation_postgres()
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone() == before
