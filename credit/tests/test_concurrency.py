"""The ledger under concurrent load, on PostgreSQL (SQLite ignores row locks).

Each test releases N threads at once through a barrier; each thread has its own
database connection and runs its own transaction, as N web requests would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from credit import services
from credit.models import PointsAccount, PointsEntry
from credit.services.reconciliation import ledger_reconciliation
from credit.tests.factories import ScoringRuleFactory
from tests.concurrency import together as _together

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

NOW = dt.datetime(2026, 11, 6, 2, 0, tzinfo=dt.UTC)
THREADS = 20


def together(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """work(i) on n threads released together, each in a durable transaction."""
    return _together(n, work, atomic=True)


def funded(world: Any, points: int) -> PointsEntry:
    rule = ScoringRuleFactory(street=world.street, points=points, unit="event")
    return services.points_award(resident=world.resident_a, rule=rule, key="seed", now=NOW)


def test_twenty_redemptions_from_one_balance_only_one_succeeds(
    require_postgres: None, world: Any
) -> None:
    funded(world, 100)
    results, errors = together(
        THREADS,
        lambda i: services.points_spend(
            resident=world.resident_a, amount=100, key=f"buy:{i}", now=NOW
        ),
    )
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(getattr(e, "code", None) == "insufficient" for e in errors)
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 0
    assert ledger_reconciliation().ok


def test_the_same_idempotency_key_at_once_makes_one_entry(
    require_postgres: None, world: Any
) -> None:
    rule = ScoringRuleFactory(street=world.street, points=5, unit="event")
    results, errors = together(
        THREADS,
        lambda i: services.points_award(
            resident=world.resident_a, rule=rule, key="fee-paid:42", now=NOW
        ),
    )
    assert errors == []
    assert len({entry.pk for entry in results}) == 1
    assert PointsEntry.objects.filter(idempotency_key="fee-paid:42").count() == 1
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 5


def test_twenty_reversals_of_one_entry_make_one(require_postgres: None, world: Any) -> None:
    entry = funded(world, 30)
    results, errors = together(
        THREADS, lambda i: services.points_reverse(entry=entry, now=NOW, reason=f"#{i}")
    )
    assert errors == []
    assert PointsEntry.objects.filter(reverses=entry).count() == 1
    assert len({r.pk for r in results}) == 1
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 0


def test_concurrent_awards_stay_within_the_daily_cap(require_postgres: None, world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=2, unit="event", cap_day=10)
    results, errors = together(
        THREADS,
        lambda i: services.points_award(
            resident=world.resident_a, rule=rule, key=f"shift:{i}", now=NOW
        ),
    )
    assert sum(entry.amount for entry in results) == 10
    assert all(getattr(e, "code", None) == "cap_reached" for e in errors)


def test_mixed_load_reconciles(require_postgres: None, world: Any) -> None:
    funded(world, 50)
    rule = ScoringRuleFactory(street=world.street, points=3, unit="event")
    residents = [world.resident_a, world.resident_b, world.other_resident]

    def work(i: int) -> Any:
        resident = residents[i % 3]
        if i % 4 == 0:
            return services.points_spend(resident=resident, amount=7, key=f"buy:{i}", now=NOW)
        entry = services.points_award(resident=resident, rule=rule, key=f"evt:{i}", now=NOW)
        if i % 4 == 1:
            return services.points_reverse(entry=entry, now=NOW)
        return entry

    together(THREADS, work)
    report = ledger_reconciliation()
    assert report.ok, report
    assert report.accounts_checked == 3


def test_entries_cannot_be_updated_or_deleted(require_postgres: None, world: Any) -> None:
    entry = funded(world, 5)
    for statement in (
        "UPDATE credit_pointsentry SET amount = 500 WHERE id = %s",
        "DELETE FROM credit_pointsentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.pk])
    entry.refresh_from_db()
    assert entry.amount == 5
