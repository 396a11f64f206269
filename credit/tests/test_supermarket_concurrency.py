"""The credit supermarket under concurrent load, on PostgreSQL (SQLite ignores row locks).

As in test_concurrency.py, N threads are released at once through a barrier, each with
its own connection, as N web requests would be. The supermarket services are entry
points with their own durable transaction, so the threads call them bare.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from community.tests.factories import ResidentFactory
from credit.models import PointsAccount, PointsEntry, Redemption, SupermarketItem
from credit.services.reconciliation import ledger_reconciliation
from credit.services.supermarket import (
    redemption_cancel,
    redemption_create,
    redemption_fulfil,
    redemptions_expire,
)
from credit.tests.test_supermarket import NOW, fund, make_clerk, make_item, make_window
from tests.concurrency import together

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def codes(errors: list[BaseException]) -> set[str]:
    return {str(getattr(e, "code", type(e).__name__)) for e in errors}


def test_fifty_buyers_for_ten_in_stock_get_exactly_ten(require_postgres: None, world: Any) -> None:
    make_window(world.home)
    item = make_item(world.home, stock=10, points_price=20)
    buyers = [ResidentFactory(household=world.household_a) for _ in range(50)]
    for buyer in buyers:
        fund(world, buyer, 20)
    results, errors = together(
        50,
        lambda i: redemption_create(resident=buyers[i], item=item, key=f"buy-{i}", now=NOW),
    )
    assert len(results) == 10
    assert len(errors) == 40
    assert codes(errors) == {"out_of_stock"}
    item.refresh_from_db()
    assert item.stock == 0
    assert Redemption.objects.count() == 10
    assert PointsEntry.objects.filter(kind=PointsEntry.Kind.REDEMPTION).count() == 10
    assert ledger_reconciliation().ok


def test_twenty_redemptions_from_a_balance_for_one_make_one(
    require_postgres: None, world: Any
) -> None:
    make_window(world.home)
    item = make_item(world.home, stock=None, points_price=100)
    fund(world, world.resident_a, 100)
    results, errors = together(
        20,
        lambda i: redemption_create(resident=world.resident_a, item=item, key=f"k{i}", now=NOW),
    )
    assert len(results) == 1
    assert codes(errors) == {"insufficient"}
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 0
    assert Redemption.objects.count() == 1
    assert ledger_reconciliation().ok


def test_the_same_key_twenty_times_at_once_redeems_once(require_postgres: None, world: Any) -> None:
    make_window(world.home)
    item = make_item(world.home, stock=5, points_price=10)
    fund(world, world.resident_a, 100)
    results, errors = together(
        20,
        lambda i: redemption_create(resident=world.resident_a, item=item, key="tap", now=NOW),
    )
    assert errors == []
    assert len({r.pk for r in results}) == 1
    assert Redemption.objects.count() == 1
    assert PointsEntry.objects.filter(kind=PointsEntry.Kind.REDEMPTION).count() == 1
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 90
    item.refresh_from_db()
    assert item.stock == 4


def test_two_clerks_scanning_one_code_hand_over_once(require_postgres: None, world: Any) -> None:
    make_window(world.home)
    item = make_item(world.home)
    fund(world, world.resident_a, 100)
    redemption = redemption_create(resident=world.resident_a, item=item, key="x", now=NOW)
    clerks = [make_clerk(world.home) for _ in range(10)]
    results, errors = together(
        10, lambda i: redemption_fulfil(code=redemption.pickup_code, clerk=clerks[i], now=NOW)
    )
    assert len(results) == 1
    assert codes(errors) == {"used"}


def test_mixed_load_with_expiry_reconciles(require_postgres: None, world: Any, staff: Any) -> None:
    make_window(world.home)
    item = make_item(world.home, stock=30, points_price=10)
    service = make_item(world.home, name="理疗", stock=None, points_price=15)
    buyers = [
        world.resident_a,
        world.resident_b,
        *(ResidentFactory(household=world.household_b) for _ in range(4)),
    ]
    for buyer in buyers:
        fund(world, buyer, 60)
    held = [
        redemption_create(resident=buyers[i % 6], item=item, key=f"held-{i}", now=NOW)
        for i in range(6)
    ]
    deadline = held[0].expires_at
    clerk = make_clerk(world.home)

    def work(i: int) -> Any:
        buyer = buyers[i % 6]
        kind = i % 5
        if kind == 0:
            return redemptions_expire(now=deadline)
        if kind == 1:
            return redemption_cancel(redemption=held[i % 6], actor=staff, now=NOW)
        if kind == 2:
            return redemption_fulfil(code=held[(i + 1) % 6].pickup_code, clerk=clerk, now=NOW)
        target = item if kind == 3 else service
        return redemption_create(resident=buyer, item=target, key=f"mix-{i}", now=NOW)

    together(20, work)
    redemptions_expire(now=deadline + dt.timedelta(days=30))
    report = ledger_reconciliation()
    assert report.ok, report
    assert not Redemption.objects.filter(status=Redemption.Status.RESERVED).exists()
    taken = sum(
        r.quantity for r in Redemption.objects.filter(item=item, status=Redemption.Status.FULFILLED)
    )
    item.refresh_from_db()
    assert item.stock == 30 - taken
    assert isinstance(SupermarketItem.objects.get(pk=service.pk).stock, type(None))
