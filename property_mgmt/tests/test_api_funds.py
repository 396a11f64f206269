"""/api/v1/property/ self-managed funds: the fund with my queue, income, an expense with a
quote photo (multipart), approval by another member, payment by the keeper, booking by
the bookkeeper, a correction, and the public ledger with names masked; the refusals
(requester ≠ approver, payer ≠ booker, no overspending) and scoping (outsider: 404)."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from grievances.tests.factories import photo_upload
from property_mgmt.models import ExpenseAttachment, ExpenseRequest, FundEntry
from property_mgmt.tests.factories_funds import Committee, committee_with_fund

pytestmark = pytest.mark.django_db

BASE = "/api/v1/property/"


@pytest.fixture(autouse=True)
def private_root(tmp_path: Path, settings: Any) -> Any:
    """Photos of each test go to a folder of their own, removed afterwards."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    yield settings.PRIVATE_STORAGE_ROOT
    shutil.rmtree(tmp_path / "private", ignore_errors=True)


@pytest.fixture
def c(world: Any) -> Committee:
    return committee_with_fund(world.estate, balance=1000)


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def fund_url(c: Committee, action: str = "") -> str:
    return f"{BASE}funds/{c.estate.pk}/{action + '/' if action else ''}"


def _request(c: Committee, user: Any, amount: str = "300.00", **extra: Any) -> Any:
    body = {"purpose": "清运建筑垃圾", "amount": amount, **extra}
    return api(user).post(fund_url(c, "expenses"), body, format="multipart")


def _act(user: Any, expense_id: int, action: str, **body: Any) -> Any:
    return api(user).post(f"{BASE}expenses/{expense_id}/{action}/", body, format="json")


def test_the_whole_way_of_an_expense(world: Any, c: Committee, resident: Any) -> None:
    response = _request(c, c.member_a, photos=[photo_upload("quote.jpg")])
    assert response.status_code == 201, response.content
    expense_id = response.json()["id"]
    assert ExpenseAttachment.objects.get().kind == "quote"
    queue = api(c.member_b).get(fund_url(c)).json()
    assert [e["id"] for e in queue["to_decide"]] == [expense_id]
    assert api(c.member_a).get(fund_url(c)).json()["to_decide"] == []

    assert _act(c.member_b, expense_id, "decide", approve=True).json()["status"] == "approved"
    assert [e["id"] for e in api(c.keeper).get(fund_url(c)).json()["to_pay"]] == [expense_id]
    paid = api(c.keeper).post(
        f"{BASE}expenses/{expense_id}/pay/",
        {"receipts": [photo_upload("receipt.jpg")]},
        format="multipart",
    )
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert _act(c.bookkeeper, expense_id, "book").json()["status"] == "booked"
    assert c.reload().balance == Decimal("700.00")

    # The API pays "now": the ledger of this year shows it (the opening donation is older).
    year = timezone.localdate().year
    ledger = api(resident).get(fund_url(c, f"ledger/{year}")).json()
    assert ledger["closing_balance"] == "700.00" and ledger["keeper"] == "陈**"
    lines = [line for month in ledger["months"] for line in month["lines"]]
    expense_line = next(line for line in lines if line["kind"] == "expense")
    assert expense_line["amount"] == "-300.00"
    assert expense_line["requested_by"] == "钱**" and expense_line["approved_by"] == "孙**"
    assert "钱委员" not in str(ledger) and "孙委员" not in str(ledger)


def test_the_requester_may_not_approve_their_own(c: Committee) -> None:
    expense_id = _request(c, c.member_a).json()["id"]
    response = _act(c.member_a, expense_id, "decide", approve=True)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert ExpenseRequest.objects.get().status == "requested"


def test_rejecting_needs_a_reason(c: Committee) -> None:
    expense_id = _request(c, c.member_a).json()["id"]
    response = _act(c.member_b, expense_id, "decide", approve=False)
    assert response.status_code == 400 and "note" in response.json()["errors"]


def test_a_fund_cannot_pay_more_than_it_holds(c: Committee) -> None:
    expense_id = _request(c, c.member_a, amount="1500.00").json()["id"]
    _act(c.member_b, expense_id, "decide", approve=True)
    response = _act(c.keeper, expense_id, "pay")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert c.reload().balance == Decimal("1000.00")
    assert ExpenseRequest.objects.get().status == "approved"


def test_only_the_keeper_pays_and_only_the_bookkeeper_books(c: Committee) -> None:
    expense_id = _request(c, c.member_a).json()["id"]
    _act(c.member_b, expense_id, "decide", approve=True)
    assert _act(c.bookkeeper, expense_id, "pay").status_code == 403
    assert _act(c.keeper, expense_id, "pay").status_code == 200
    response = _act(c.keeper, expense_id, "book")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_a_request_with_no_purpose_is_refused(c: Committee) -> None:
    response = api(c.member_a).post(fund_url(c, "expenses"), {"amount": "10"}, format="multipart")
    assert response.status_code == 400 and "purpose" in response.json()["errors"]
    assert not ExpenseRequest.objects.exists()


def test_income_by_the_keeper_and_a_correction_by_the_bookkeeper(world: Any, c: Committee) -> None:
    body = {
        "kind": "fee",
        "amount": "300.00",
        "occurred_on": "2026-03-10",
        "household": world.household_a.pk,
    }
    response = api(c.keeper).post(fund_url(c, "income"), body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["balance_after"] == "1300.00"
    entry_id = response.json()["id"]
    correction = api(c.bookkeeper).post(
        f"{BASE}entries/{entry_id}/correct/",
        {"amount": "-30.00", "reason": "多记30元"},
        format="json",
    )
    assert correction.status_code == 201, correction.content
    assert correction.json()["corrects"] == entry_id and correction.json()["kind"] == "correction"
    assert c.reload().balance == Decimal("1270.00")
    assert (
        api(c.keeper)
        .post(f"{BASE}entries/{entry_id}/correct/", {"amount": "-1", "reason": "x"}, format="json")
        .status_code
        == 403
    )


def test_income_by_another_member_is_refused(world: Any, c: Committee) -> None:
    body = {"kind": "donation", "amount": "50.00", "occurred_on": "2026-03-10"}
    response = api(c.member_a).post(fund_url(c, "income"), body, format="json")
    assert response.status_code == 403
    assert FundEntry.objects.count() == 1  # the opening donation only


def test_income_from_a_household_of_another_estate_is_404(world: Any, c: Committee) -> None:
    body = {
        "kind": "fee",
        "amount": "300.00",
        "occurred_on": "2026-03-10",
        "household": world.other_household.pk,
    }
    assert api(c.keeper).post(fund_url(c, "income"), body, format="json").status_code == 404


def test_the_fund_is_not_for_outsiders_nor_the_company(
    world: Any, c: Committee, outsider: Any, property_staff: Any, resident: Any
) -> None:
    expense_id = _request(c, c.member_a).json()["id"]
    for user in (outsider, property_staff, resident):
        assert api(user).get(fund_url(c)).status_code == 404
        assert _request(c, user).status_code == 404
        assert _act(user, expense_id, "decide", approve=True).status_code == 404
    assert api(outsider).get(fund_url(c, "ledger/2026")).status_code == 404
    assert ExpenseRequest.objects.count() == 1


def test_the_ledger_costs_the_same_queries_for_one_or_many(
    world: Any, c: Committee, resident: Any
) -> None:
    url = fund_url(c, "ledger/2026")

    def count() -> int:
        resident._linli_scope = None
        with CaptureQueriesContext(connection) as ctx:
            assert api(resident).get(url).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for amount in (10, 20, 30):
        c.income(amount, household=world.household_a)
    c.paid(50)
    assert count() == one


def test_the_fund_queue_costs_the_same_queries_for_one_or_many(c: Committee) -> None:
    url = fund_url(c)

    def count() -> int:
        c.member_b._linli_scope = None
        with CaptureQueriesContext(connection) as ctx:
            assert api(c.member_b).get(url).status_code == 200
        return len(ctx.captured_queries)

    _request(c, c.member_a)
    one = count()
    for amount in ("10", "20", "30"):
        _request(c, c.member_a, amount=amount)
    assert len(api(c.member_b).get(url).json()["to_decide"]) == 4
    assert count() == one
