"""/api/v1/property/ contracts and fees: contracts of my scope and the office registering
one, an estate's bills for a month, my household's bills, recording a payment (the +5,
the serve-first refusal, the Idempotency-Key replay), collection rates and arrears with
masked phones; scoping (outsider and another company: 404) and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from community.models import Membership, Organization
from community.tests.factories import (
    EstateFactory,
    HouseholdFactory,
    MembershipFactory,
    OrganizationFactory,
    ResidentFactory,
    UnitFactory,
    UserFactory,
)
from property_mgmt.models import FeePayment, ServiceContract
from property_mgmt.tests.factories import ServiceContractFactory
from property_mgmt.tests.factories_fees import bill_for, contract_of, install_standard

pytestmark = pytest.mark.django_db

BASE = "/api/v1/property/"
ON_TIME = "2026-03-05T10:00:00+08:00"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def queries(user: Any, url: str) -> int:
    """The queries of one GET, the user's scope read afresh as in a new request."""
    user._linli_scope = None
    with CaptureQueriesContext(connection) as ctx:
        response = api(user).get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.fixture
def rival_staff(world: Any) -> Any:
    """Staff of another property company, serving an estate of the other community."""
    rival = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY)
    EstateFactory(community=world.other, property_company=rival)
    user = UserFactory(name="钱经理")
    MembershipFactory(user=user, role=Membership.Role.PROPERTY_STAFF, organization=rival)
    return user


def test_urls_are_under_the_property_api() -> None:
    assert reverse("property-api:contracts") == BASE + "contracts/"
    assert reverse("property-api:pay", args=[3]) == BASE + "bills/3/payments/"
    assert reverse("property-api:collection", args=[3]) == BASE + "estates/3/collection/"
    assert reverse("property-api:fund-ledger", args=[3, 2026]) == BASE + "funds/3/ledger/2026/"


def test_anonymous_callers_are_refused(world: Any) -> None:
    assert APIClient().get(BASE + "contracts/").status_code in (401, 403)
    assert APIClient().get(BASE + "bills/mine/").status_code in (401, 403)


# --- contracts -------------------------------------------------------------------------------


def test_contracts_list_shows_my_scope_only(
    world: Any, staff: Any, property_staff: Any, outsider: Any, rival_staff: Any
) -> None:
    contract = contract_of(world)
    for user in (staff, property_staff):
        body = api(user).get(BASE + "contracts/").json()
        assert [row["id"] for row in body["results"]] == [contract.pk]
        assert body["results"][0]["fee_basis"] == "per_m2"
        assert body["results"][0]["fee_basis_label"] not in ("", "per_m2")
    for user in (outsider, rival_staff):
        assert api(user).get(BASE + "contracts/").json()["results"] == []


def test_contracts_list_costs_the_same_queries_for_one_or_many(world: Any, staff: Any) -> None:
    contract_of(world)
    one = queries(staff, BASE + "contracts/")
    for year in (2027, 2028, 2029):
        ServiceContractFactory(
            provider=world.property_company,
            estate=world.estate,
            starts_on=dt.date(year, 1, 1),
            ends_on=dt.date(year + 1, 1, 1),
        )
    assert queries(staff, BASE + "contracts/") == one


def test_office_registers_a_contract(world: Any, staff: Any) -> None:
    response = api(staff).post(
        BASE + "contracts/",
        {
            "provider": world.property_company.pk,
            "estate": world.estate.pk,
            "starts_on": "2026-01-01",
            "ends_on": "2027-01-01",
            "fee_basis": "per_m2",
            "fee_standard": "1.80",
            "billing_mode": "serve_first",
            "serve_first_threshold": "4.00",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    contract = ServiceContract.objects.get()
    assert response.json()["id"] == contract.pk
    assert contract.billing_mode == "serve_first" and contract.fee_standard == Decimal("1.80")


def _contract_body(world: Any, **kwargs: Any) -> dict[str, Any]:
    body = {
        "provider": world.property_company.pk,
        "estate": world.estate.pk,
        "starts_on": "2026-06-01",
        "ends_on": "2027-06-01",
        "fee_basis": "per_household",
        "fee_standard": "90.00",
    }
    body.update(kwargs)
    return body


def test_an_overlapping_contract_is_refused_with_the_reason(world: Any, staff: Any) -> None:
    contract_of(world)
    response = api(staff).post(BASE + "contracts/", _contract_body(world), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "overlap"
    assert "2026-01-01" in response.json()["detail"]
    assert ServiceContract.objects.count() == 1


def test_serve_first_without_threshold_is_refused(world: Any, staff: Any) -> None:
    body = _contract_body(world, billing_mode="serve_first")
    response = api(staff).post(BASE + "contracts/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "threshold"


def test_property_staff_may_not_register_a_contract(world: Any, property_staff: Any) -> None:
    response = api(property_staff).post(BASE + "contracts/", _contract_body(world), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_contract_for_an_estate_out_of_scope_is_404(world: Any, staff: Any, outsider: Any) -> None:
    body = _contract_body(world, estate=world.other_estate.pk)
    assert api(staff).post(BASE + "contracts/", body, format="json").status_code == 404
    body = _contract_body(world)
    assert api(outsider).post(BASE + "contracts/", body, format="json").status_code == 404
    assert not ServiceContract.objects.exists()


# --- bills -----------------------------------------------------------------------------------


def test_estate_bills_for_a_month(world: Any, staff: Any, property_staff: Any) -> None:
    contract = contract_of(world)
    bill_a = bill_for(contract, world.household_a)
    bill_b = bill_for(contract, world.household_b, payable_from=None)
    url = f"{BASE}bills/?estate={world.estate.pk}&month=2026-03"
    for user in (staff, property_staff):
        body = api(user).get(url).json()
        assert body["count"] == 2
        rows = {row["id"]: row for row in body["results"]}
        assert rows[bill_a.pk]["outstanding"] == "120.00" and rows[bill_a.pk]["payable"]
        assert rows[bill_b.pk]["payable"] is False
        assert rows[bill_a.pk]["period"] == "2026-03"
    assert (
        api(staff).get(f"{BASE}bills/?estate={world.estate.pk}&month=2026-04").json()["results"]
        == []
    )


def test_estate_bills_need_a_month(world: Any, staff: Any) -> None:
    response = api(staff).get(f"{BASE}bills/?estate={world.estate.pk}&month=March")
    assert response.status_code == 400
    assert "YYYY-MM" in response.json()["detail"]


def test_estate_bills_out_of_scope_are_404(
    world: Any, outsider: Any, resident: Any, rival_staff: Any
) -> None:
    bill_for(contract_of(world), world.household_a)
    url = f"{BASE}bills/?estate={world.estate.pk}&month=2026-03"
    for user in (outsider, resident, rival_staff):
        assert api(user).get(url).status_code == 404


def test_estate_bills_cost_the_same_queries_for_one_or_many(world: Any, staff: Any) -> None:
    contract = contract_of(world)
    bill_for(contract, world.household_a)
    url = f"{BASE}bills/?estate={world.estate.pk}&month=2026-03"
    one = queries(staff, url)
    for _ in range(5):
        bill_for(contract, HouseholdFactory(unit=UnitFactory(building=world.building_b)))
    assert queries(staff, url) == one


def test_my_bills_are_my_households_only(world: Any, resident: Any) -> None:
    contract = contract_of(world)
    mine = bill_for(contract, world.household_a)
    bill_for(contract, world.household_b)
    body = api(resident).get(BASE + "bills/mine/").json()
    assert [row["id"] for row in body["results"]] == [mine.pk]


def test_my_bills_cost_the_same_queries_for_one_or_many(world: Any, resident: Any) -> None:
    contract = contract_of(world)
    bill_for(contract, world.household_a)
    one = queries(resident, BASE + "bills/mine/")
    for month in (4, 5, 6):
        bill_for(contract, world.household_a, period=dt.date(2026, month, 1))
    assert queries(resident, BASE + "bills/mine/") == one


def test_the_outsider_has_no_bills(world: Any, outsider: Any) -> None:
    bill_for(contract_of(world), world.household_a)
    assert api(outsider).get(BASE + "bills/mine/").json()["results"] == []


# --- payments --------------------------------------------------------------------------------


def _pay(user: Any, bill: Any, amount: str, **extra: Any) -> Any:
    body = {"amount": amount, "method": "cash", "paid_at": ON_TIME}
    headers = extra.pop("headers", {})
    body.update(extra)
    return api(user).post(f"{BASE}bills/{bill.pk}/payments/", body, format="json", **headers)


def test_paying_in_full_on_time_earns_five_points_once(world: Any, property_staff: Any) -> None:
    install_standard(world)
    bill = bill_for(contract_of(world), world.household_a)
    response = _pay(property_staff, bill, "120.00", reference="R-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["bill_paid_in_full"] is True and body["points_awarded"] == 5
    assert body["method_label"]
    replay = _pay(property_staff, bill, "120.00", reference="R-1")
    assert replay.status_code == 200 and replay.json()["id"] == body["id"]
    assert FeePayment.objects.count() == 1


def test_an_idempotency_key_replay_records_nothing_more(world: Any, staff: Any) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    headers = {"HTTP_IDEMPOTENCY_KEY": "pay-7f3a"}
    first = _pay(staff, bill, "50.00", headers=headers)
    assert first.status_code == 201
    again = _pay(staff, bill, "50.00", headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    bill.refresh_from_db()
    assert bill.paid_amount == Decimal("50.00") and FeePayment.objects.count() == 1


def test_overpaying_is_refused_with_the_amount_outstanding(world: Any, staff: Any) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    response = _pay(staff, bill, "150.00")
    assert response.status_code == 400
    assert response.json()["code"] == "overpay" and "120.00" in response.json()["detail"]
    assert not FeePayment.objects.exists()


def test_a_serve_first_bill_below_the_threshold_is_not_payable(world: Any, staff: Any) -> None:
    contract = contract_of(world, billing_mode="serve_first", serve_first_threshold=Decimal("4.00"))
    bill = bill_for(contract, world.household_a, payable_from=None)
    response = _pay(staff, bill, "120.00")
    assert response.status_code == 400 and response.json()["code"] == "not_payable"


def test_a_resident_may_not_record_a_payment_on_their_bill(world: Any, resident: Any) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    response = _pay(resident, bill, "120.00")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not FeePayment.objects.exists()


def test_paying_a_bill_out_of_scope_is_404(
    world: Any, outsider: Any, rival_staff: Any, resident: Any
) -> None:
    contract = contract_of(world)
    bill = bill_for(contract, world.household_b)
    for user in (outsider, rival_staff, resident):
        assert _pay(user, bill, "120.00").status_code == 404
    assert not FeePayment.objects.exists()


# --- collection and arrears --------------------------------------------------------------------


def test_collection_rate_of_an_estate_for_a_month(
    world: Any, staff: Any, property_staff: Any
) -> None:
    contract = contract_of(world)
    bill_for(contract, world.household_a, paid_amount=Decimal("120.00"), paid_at=ON_TIME)
    bill_for(contract, world.household_b)
    url = f"{BASE}estates/{world.estate.pk}/collection/?month=2026-03"
    body = api(property_staff).get(url).json()
    assert body["total"]["billed"] == "240.00" and body["total"]["paid"] == "120.00"
    assert body["total"]["rate"] == "0.5000"
    assert [row["key"] for row in body["buildings"]] == sorted(
        [world.building_a.pk, world.building_b.pk]
    )
    assert api(staff).get(url).json()["total"]["rate"] == "0.5000"


def test_collection_rate_costs_the_same_queries_for_one_or_many(world: Any, staff: Any) -> None:
    contract = contract_of(world)
    bill_for(contract, world.household_a)
    url = f"{BASE}estates/{world.estate.pk}/collection/?month=2026-03"
    one = queries(staff, url)
    for _ in range(4):
        bill_for(contract, HouseholdFactory(unit=UnitFactory(building=world.building_b)))
    assert queries(staff, url) == one


def test_collection_rate_out_of_scope_is_404(
    world: Any, outsider: Any, rival_staff: Any, resident: Any
) -> None:
    url = f"{BASE}estates/{world.estate.pk}/collection/?month=2026-03"
    for user in (outsider, rival_staff, resident):
        assert api(user).get(url).status_code == 404


def test_arrears_show_masked_phones(world: Any, staff: Any) -> None:
    contract = contract_of(world)
    bill_for(contract, world.household_b)
    ResidentFactory(household=world.household_b, name="李二")
    url = f"{BASE}estates/{world.estate.pk}/arrears/?as_of=2026-04-01"
    body = api(staff).get(url).json()
    assert body["count"] == 1
    row = body["results"][0]
    phone = world.resident_b.phone
    assert row["phone"] == f"{phone[:3]}****{phone[-4:]}" and phone not in str(body)
    assert row["outstanding"] == "120.00" and row["oldest_period"] == "2026-03"
    assert api(staff).get(url.replace("2026-04-01", "2026-03-31")).json()["count"] == 0


def test_arrears_refuse_a_malformed_date_and_the_outsider(
    world: Any, staff: Any, outsider: Any
) -> None:
    url = f"{BASE}estates/{world.estate.pk}/arrears/"
    assert api(staff).get(url + "?as_of=April").status_code == 400
    assert api(outsider).get(url).status_code == 404


# --- schema ----------------------------------------------------------------------------------


def test_the_schema_documents_every_property_endpoint(staff: Any) -> None:
    response = api(staff).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "contracts/",
        "bills/",
        "bills/mine/",
        "bills/{id}/payments/",
        "estates/{id}/collection/",
        "estates/{id}/arrears/",
        "surveys/open/",
        "surveys/{id}/answer/",
        "surveys/{id}/results/",
        "scorecards/",
        "scorecards/compute/",
        "blacklist/",
        "blacklist/{id}/confirm/",
        "blacklist/{id}/dismiss/",
        "blacklist/{id}/remove/",
        "blacklist/{id}/respond/",
        "funds/{estate_id}/",
        "funds/{estate_id}/income/",
        "funds/{estate_id}/expenses/",
        "funds/{estate_id}/ledger/{year}/",
        "expenses/{id}/decide/",
        "expenses/{id}/pay/",
        "expenses/{id}/book/",
        "entries/{id}/correct/",
    ):
        assert f'"{BASE}{path}"' in text, path
    assert "PropertyRefusal" in text and "Idempotency-Key" in text
