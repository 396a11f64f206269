from __future__ import annotations

from typing import Any

import pytest

from credit.demo import credit_demo_build
from credit.models import BoardSnapshot, ExchangeWindow, PointsEntry, SupermarketItem
from credit.services.reconciliation import ledger_reconciliation

pytestmark = pytest.mark.django_db


def test_demo_points_are_realistic_reconcile_and_are_idempotent(world: Any, staff: Any) -> None:
    from community.tests.factories import HouseholdFactory, ResidentFactory, UnitFactory

    for _ in range(60):  # enough residents for a month of awards to appear
        ResidentFactory(household=HouseholdFactory(unit=UnitFactory(building=world.building_a)))
    made = credit_demo_build(street=world.street)
    assert made["rules"] >= 24
    assert SupermarketItem.objects.filter(community=world.home).count() >= 8
    assert ExchangeWindow.objects.filter(community=world.home, day_of_month=6).exists()
    assert made["entries"] > 20
    assert PointsEntry.objects.values("rule__code").distinct().count() >= 3
    assert ledger_reconciliation().ok
    assert made["boards"] == 1  # last month's red list, published by the office
    board = BoardSnapshot.objects.get(community=world.home)
    assert board.red_rows and all(row["name"].endswith("**") for row in board.red_rows)
    again = credit_demo_build(street=world.street)
    assert again == {"rules": 0, "items": 0, "entries": 0, "boards": 0}
