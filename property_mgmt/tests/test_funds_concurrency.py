"""Fund races on PostgreSQL (SQLite ignores row locks): threads released together, each
with its own connection and transaction, as concurrent requests would be."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from property_mgmt.models import ExpenseRequest, FundEntry
from property_mgmt.services import funds as services
from property_mgmt.tests.factories_funds import NOW, committee_with_fund
from tests.concurrency import all_together, together

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
Status = ExpenseRequest.Status


def _books_balance(fund: Any) -> None:
    """The cached balance is the sum of the entries, and no entry saw a negative balance."""
    fund.refresh_from_db()
    total = FundEntry.objects.filter(fund=fund).aggregate(s=Sum("amount"))["s"]
    assert fund.balance == total >= 0
    assert not FundEntry.objects.filter(fund=fund, balance_after__lt=0).exists()


def test_racing_payments_spend_only_what_the_fund_holds(require_postgres: None, world: Any) -> None:
    c = committee_with_fund(world.estate, balance=500)
    expenses = [c.approved(100, purpose=f"维修{i}") for i in range(8)]
    results, errors = together(
        8, lambda i: services.expense_pay(expense=expenses[i], actor=c.keeper, now=NOW)
    )
    assert len(results) == 5 and len(errors) == 3
    assert all(isinstance(e, ValidationError) and e.code == "balance_short" for e in errors), errors
    assert ExpenseRequest.objects.filter(status=Status.PAID).count() == 5
    assert ExpenseRequest.objects.filter(status=Status.APPROVED).count() == 3
    assert FundEntry.objects.filter(kind=FundEntry.Kind.EXPENSE).count() == 5
    assert c.reload().balance == 0
    _books_balance(c.fund)


def test_one_expense_paid_ten_times_at_once_is_paid_once(
    require_postgres: None, world: Any
) -> None:
    c = committee_with_fund(world.estate, balance=500)
    expense = c.approved(100)
    results, errors = together(
        10, lambda i: services.expense_pay(expense=expense, actor=c.keeper, now=NOW)
    )
    assert len(results) == 1 and len(errors) == 9
    assert FundEntry.objects.filter(expense=expense).count() == 1
    assert c.reload().balance == Decimal("400.00")
    _books_balance(c.fund)


def test_income_and_payments_at_once_keep_the_books_balanced(
    require_postgres: None, world: Any
) -> None:
    c = committee_with_fund(world.estate, balance=100)
    expenses = [c.approved(60, purpose=f"维修{i}") for i in range(4)]
    works = [
        (lambda e=e: services.expense_pay(expense=e, actor=c.keeper, now=NOW)) for e in expenses
    ] + [
        (
            lambda: services.fund_income_record(
                fund=c.fund,
                actor=c.bookkeeper,
                kind=FundEntry.Kind.FEE,
                amount=30,
                occurred_on=NOW.date(),
                household=world.household_a,
                now=NOW,
            )
        )
        for _ in range(4)
    ]
    _results, errors = all_together(works)
    assert all(getattr(e, "code", None) == "balance_short" for e in errors), errors
    paid = ExpenseRequest.objects.filter(status=Status.PAID).count()
    assert c.reload().balance == Decimal(100 + 4 * 30 - 60 * paid)
    _books_balance(c.fund)


def test_two_members_approving_at_once_make_one_decision(
    require_postgres: None, world: Any
) -> None:
    c = committee_with_fund(world.estate, balance=100)
    expense = services.expense_request(
        fund=c.fund, actor=c.member_a, purpose="买扫帚", amount=30, now=NOW
    )
    deciders = [c.member_b, c.keeper, c.bookkeeper]
    results, errors = together(
        3,
        lambda i: services.expense_decide(
            expense=expense,
            actor=deciders[i],
            approve=i != 0,
            note="不同意" if i == 0 else "",
            now=NOW,
        ),
    )
    assert len(results) == 1 and len(errors) == 2
    assert all(getattr(e, "code", None) == "already_decided" for e in errors), errors
    expense.refresh_from_db()
    assert expense.decided_by == results[0].decided_by
    assert expense.history.filter(history_type="~").count() == 1
