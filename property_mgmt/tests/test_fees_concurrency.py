"""Payments and billing under concurrent load, on PostgreSQL (SQLite ignores row locks).

Each test releases threads at once through a barrier; each thread has its own database
connection and transaction, as two cashiers recording the same bill at once would.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from credit.models import PointsAccount, PointsEntry
from property_mgmt.models import FeeBill, FeePayment
from property_mgmt.services.fees import bills_generate, fee_payment_record
from property_mgmt.tests.factories_fees import MARCH, NOW, bill_for, contract_of, install_standard
from tests.concurrency import together

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _pay(bill: FeeBill, amount: str, actor: Any, reference: str = "") -> FeePayment:
    return fee_payment_record(
        bill=bill,
        amount=Decimal(amount),
        method=FeePayment.Method.CASH,
        paid_at=NOW,
        actor=actor,
        reference=reference,
        now=NOW,
    )


def test_two_full_payments_at_once_pay_once_and_award_five_points_once(
    require_postgres: None, world: Any, property_staff: Any, staff: Any
) -> None:
    install_standard(world)
    bill = bill_for(contract_of(world), world.household_a)
    cashiers = [property_staff, staff]  # the company and the office at the same moment
    results, errors = together(2, lambda i: _pay(bill, "120.00", cashiers[i]))
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    bill.refresh_from_db()
    assert bill.paid_amount == bill.amount
    assert FeePayment.objects.filter(bill=bill).count() == 1
    assert PointsEntry.objects.filter(idempotency_key=f"fee-paid:{bill.pk}").count() == 1
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 5


def test_partial_payments_completing_a_bill_at_once_never_overpay(
    require_postgres: None, world: Any, property_staff: Any
) -> None:
    install_standard(world)
    bill = bill_for(contract_of(world), world.household_a)  # 120.00
    results, errors = together(4, lambda i: _pay(bill, "40.00", property_staff))
    assert len(results) == 3
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    bill.refresh_from_db()
    assert bill.paid_amount == Decimal("120.00") and bill.paid_at == NOW
    assert PointsEntry.objects.filter(rule__code="fee-on-time").count() == 1


def test_the_same_receipt_recorded_twice_at_once_is_one_payment(
    require_postgres: None, world: Any, property_staff: Any
) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    results, errors = together(2, lambda i: _pay(bill, "60.00", property_staff, "R-7"))
    assert errors == []
    assert {p.pk for p in results} == {FeePayment.objects.get(bill=bill).pk}
    bill.refresh_from_db()
    assert bill.paid_amount == Decimal("60.00")


def test_generating_a_month_twice_at_once_bills_each_household_once(
    require_postgres: None, world: Any, staff: Any
) -> None:
    contract = contract_of(world)
    results, errors = together(
        2, lambda i: bills_generate(contract=contract, period=MARCH, now=NOW, actor=staff)
    )
    assert errors == []
    assert sorted(run.created for run in results) == [0, 2]
    assert FeeBill.objects.filter(period=MARCH).count() == 2
