"""Bills, the serve-first release, payments, the +5 on-time award and the fee selectors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.models import Membership, Organization
from community.tests.factories import (
    HouseholdFactory,
    MembershipFactory,
    OrganizationFactory,
    ResidentFactory,
    UnitFactory,
    UserFactory,
)
from credit.models import PointsAccount, PointsEntry
from property_mgmt.models import FeeBill, FeePayment, ServiceContract, Survey
from property_mgmt.selectors.fees import (
    arrears,
    building_satisfaction,
    collection_rate_by_month,
    collection_rates,
    household_bills,
)
from property_mgmt.services.fees import bills_generate, bills_release, fee_payment_record
from property_mgmt.tests.factories_fees import (
    MARCH,
    NOW,
    TZ,
    bill_for,
    contract_of,
    install_standard,
    survey_answers,
)

pytestmark = pytest.mark.django_db

Mode = ServiceContract.BillingMode
CASH = FeePayment.Method.CASH
APRIL_2 = dt.datetime(2026, 4, 2, 9, 0, tzinfo=TZ)


def _pay(bill: FeeBill, amount: str, actor: Any, **kwargs: Any) -> FeePayment:
    kwargs.setdefault("paid_at", NOW)
    kwargs.setdefault("now", NOW)
    return fee_payment_record(bill=bill, amount=Decimal(amount), method=CASH, actor=actor, **kwargs)


def _fee_entries() -> Any:
    return PointsEntry.objects.filter(rule__code="fee-on-time")


# ---- bills -------------------------------------------------------------------------


def test_per_m2_bills_are_area_times_standard_to_the_cent(world: Any, staff: Any) -> None:
    contract = contract_of(world, fee_standard=Decimal("1.55"))
    world.household_b.area_m2 = Decimal("75.35")
    world.household_b.save(update_fields=["area_m2"])
    run = bills_generate(contract=contract, period=MARCH, now=NOW, actor=staff)
    assert run.created == 2 and run.skipped_no_area == []
    a = FeeBill.objects.get(household=world.household_a, period=MARCH)
    b = FeeBill.objects.get(household=world.household_b, period=MARCH)
    assert a.amount == Decimal("124.00")  # 80 m² × 1.55
    assert b.amount == Decimal("116.79")  # 75.35 × 1.55 = 116.7925
    assert (b.building, b.estate) == (world.building_b, world.estate)
    assert b.due_on == MARCH + dt.timedelta(days=30)
    assert b.payable_from == NOW
    # The neighbouring estate, not under this contract, is not billed.
    assert not FeeBill.objects.filter(household=world.other_household).exists()


def test_per_household_bills_are_the_standard_and_ignore_area(world: Any, staff: Any) -> None:
    contract = contract_of(
        world, fee_basis=ServiceContract.FeeBasis.PER_HOUSEHOLD, fee_standard=Decimal("95")
    )
    HouseholdFactory(unit=UnitFactory(building=world.building_a), area_m2=None)
    run = bills_generate(contract=contract, period=MARCH, now=NOW, actor=staff)
    assert run.created == 3
    assert set(FeeBill.objects.values_list("amount", flat=True)) == {Decimal("95.00")}


def test_households_without_area_are_skipped_and_reported(world: Any, staff: Any) -> None:
    bare = HouseholdFactory(unit=UnitFactory(building=world.building_a), area_m2=None)
    run = bills_generate(contract=contract_of(world), period=MARCH, now=NOW, actor=staff)
    assert run.created == 2
    assert run.skipped_no_area == [bare.pk]


def test_generating_a_month_twice_creates_nothing_new(world: Any, property_staff: Any) -> None:
    contract = contract_of(world)
    first = bills_generate(contract=contract, period=MARCH, now=NOW, actor=property_staff)
    again = bills_generate(contract=contract, period=MARCH, now=NOW, actor=property_staff)
    assert (first.created, again.created, again.existing) == (2, 0, 2)
    assert FeeBill.objects.count() == 2


def test_months_outside_the_contract_are_refused(world: Any, staff: Any) -> None:
    contract = contract_of(world)  # 2026
    for period in (dt.date(2025, 12, 1), dt.date(2027, 1, 1), dt.date(2026, 3, 15)):
        with pytest.raises(ValidationError):
            bills_generate(contract=contract, period=period, now=NOW, actor=staff)
    assert not FeeBill.objects.exists()


def test_an_outsider_and_another_company_cannot_bill(world: Any, outsider: Any) -> None:
    contract = contract_of(world)
    other_staff = _other_company_staff(world)
    for actor in (outsider, other_staff):
        with pytest.raises(PermissionDenied):
            bills_generate(contract=contract, period=MARCH, now=NOW, actor=actor)


# ---- serve first -------------------------------------------------------------------


def _serve_first(world: Any, staff: Any) -> ServiceContract:
    contract = contract_of(
        world, billing_mode=Mode.SERVE_FIRST, serve_first_threshold=Decimal("4.00")
    )
    bills_generate(contract=contract, period=MARCH, now=NOW, actor=staff)
    return contract


def test_serve_first_bills_are_not_payable_until_released(
    world: Any, staff: Any, property_staff: Any
) -> None:
    contract = _serve_first(world, staff)
    bill = FeeBill.objects.get(household=world.household_a)
    assert bill.payable_from is None
    with pytest.raises(ValidationError) as exc:
        _pay(bill, "120.00", property_staff)
    assert exc.value.code == "not_payable"
    # Building A rated 3.67 on average: below 4, nothing released.
    survey_answers(
        world,
        provider=world.property_company,
        building=world.building_a,
        ratings=[4, 4, 3],
        actor=staff,
    )
    assert bills_release(contract=contract, period=MARCH, now=NOW) == []
    with pytest.raises(ValidationError):
        _pay(bill, "120.00", property_staff)
    assert not FeePayment.objects.exists()


def test_serve_first_bills_become_payable_in_buildings_that_reach_the_threshold(
    world: Any, staff: Any, property_staff: Any
) -> None:
    contract = _serve_first(world, staff)
    provider = world.property_company
    survey_answers(
        world, provider=provider, building=world.building_a, ratings=[5, 4, 3], actor=staff
    )
    survey_answers(world, provider=provider, building=world.building_b, ratings=[3, 3], actor=staff)
    assert building_satisfaction(provider_id=provider.pk, period=MARCH) == {
        world.building_a.pk: Decimal("4.00"),
        world.building_b.pk: Decimal("3.00"),
    }
    released_at = NOW + dt.timedelta(days=1)
    assert bills_release(contract=contract, period=MARCH, now=released_at) == [world.building_a.pk]
    bill_a = FeeBill.objects.get(household=world.household_a)
    bill_b = FeeBill.objects.get(household=world.household_b)
    assert bill_a.payable_from == released_at and bill_b.payable_from is None
    _pay(bill_a, "120.00", property_staff)
    bill_a.refresh_from_db()
    assert bill_a.paid_amount == Decimal("120.00")
    # Releasing again keeps the first release date.
    bills_release(contract=contract, period=MARCH, now=released_at + dt.timedelta(days=3))
    bill_a.refresh_from_db()
    assert bill_a.payable_from == released_at


def test_a_bill_released_late_is_due_after_its_release_and_paid_then_earns_points(
    world: Any, staff: Any, property_staff: Any
) -> None:
    install_standard(world)
    contract = _serve_first(world, staff)
    survey_answers(
        world,
        provider=world.property_company,
        building=world.building_a,
        ratings=[5, 4],
        actor=staff,
    )
    bill = FeeBill.objects.get(household=world.household_a)
    # Released in May, long after the month's own due date (the end of March).
    released_at = dt.datetime(2026, 5, 10, 2, 0, tzinfo=dt.UTC)
    assert bill.due_on < released_at.date()
    with pytest.raises(PermissionDenied):
        bills_release(contract=contract, period=MARCH, now=released_at, actor=property_staff)
    assert bills_release(contract=contract, period=MARCH, now=released_at, actor=staff) == [
        world.building_a.pk
    ]
    bill.refresh_from_db()
    assert bill.due_on == dt.date(2026, 5, 10) + dt.timedelta(days=contract.due_days)
    paid_at = released_at + dt.timedelta(days=5)
    _pay(bill, str(bill.amount), property_staff, paid_at=paid_at, now=paid_at)
    assert _fee_entries().count() == 1


def test_only_open_or_closed_surveys_covering_the_month_count(world: Any, staff: Any) -> None:
    provider = world.property_company
    building = world.building_a
    survey_answers(
        world,
        provider=provider,
        building=building,
        ratings=[1],
        actor=staff,
        status=Survey.Status.DRAFT,
    )
    survey_answers(
        world,
        provider=provider,
        building=building,
        ratings=[1],
        actor=staff,
        period_start=dt.date(2026, 3, 10),
        period_end=dt.date(2026, 3, 31),
    )
    other = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY)
    survey_answers(world, provider=other, building=building, ratings=[1], actor=staff)
    survey_answers(
        world,
        provider=provider,
        building=building,
        ratings=[5],
        actor=staff,
        status=Survey.Status.CLOSED,
    )
    assert building_satisfaction(provider_id=provider.pk, period=MARCH) == {
        building.pk: Decimal("5.00")
    }


# ---- payments and the +5 -----------------------------------------------------------


def test_paying_in_full_on_time_awards_five_points_once(
    world: Any, property_staff: Any, staff: Any
) -> None:
    install_standard(world)
    bill = bill_for(contract_of(world), world.household_a)
    _pay(bill, "50.00", property_staff)
    assert not _fee_entries().exists()  # not paid in full yet
    _pay(bill, "70.00", property_staff, reference="R-2")
    bill.refresh_from_db()
    assert bill.paid_amount == bill.amount and bill.paid_at == NOW
    entry = _fee_entries().get()
    assert entry.idempotency_key == f"fee-paid:{bill.pk}"
    assert entry.credit_account.resident == world.resident_a
    # A correction and the money paid again do not earn the points a second time.
    _pay(bill, "-70.00", staff)
    bill.refresh_from_db()
    assert bill.paid_at is None
    _pay(bill, "70.00", property_staff)
    assert _fee_entries().count() == 1
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 5


def test_paying_after_the_due_date_earns_no_points(world: Any, property_staff: Any) -> None:
    install_standard(world)
    bill = bill_for(contract_of(world), world.household_a)
    _pay(bill, "120.00", property_staff, paid_at=APRIL_2, now=APRIL_2)
    bill.refresh_from_db()
    assert bill.paid_at == APRIL_2
    assert not _fee_entries().exists()


def test_the_points_go_to_the_household_member_who_holds_the_account(
    world: Any, property_staff: Any
) -> None:
    install_standard(world)
    spouse = ResidentFactory(household=world.household_a, relation_to_head="spouse")
    PointsAccount.objects.create(
        kind=PointsAccount.Kind.RESIDENT, resident=spouse, community=world.home
    )
    bill = bill_for(contract_of(world), world.household_a)
    _pay(bill, "120.00", property_staff)
    assert _fee_entries().get().credit_account.resident == spouse


def test_an_empty_household_pays_without_points(world: Any, property_staff: Any) -> None:
    install_standard(world)
    empty = HouseholdFactory(unit=UnitFactory(building=world.building_a))
    bill = bill_for(contract_of(world), empty)
    _pay(bill, "120.00", property_staff)
    assert not _fee_entries().exists()


def test_paying_more_than_outstanding_is_refused(world: Any, property_staff: Any) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    _pay(bill, "100.00", property_staff)
    with pytest.raises(ValidationError) as exc:
        _pay(bill, "20.01", property_staff)
    assert exc.value.code == "overpay"
    bill.refresh_from_db()
    assert bill.paid_amount == Decimal("100.00") and bill.paid_at is None


def test_the_same_receipt_twice_records_one_payment(world: Any, property_staff: Any) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    first = _pay(bill, "60.00", property_staff, reference="R-1")
    again = _pay(bill, "60.00", property_staff, reference="R-1")
    assert again.pk == first.pk
    bill.refresh_from_db()
    assert bill.paid_amount == Decimal("60.00")


def _other_company_staff(world: Any) -> Any:
    other = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY)
    user = UserFactory(name="钱经理")
    MembershipFactory(user=user, role=Membership.Role.PROPERTY_STAFF, organization=other)
    return user


@pytest.mark.parametrize("persona", ["resident", "outsider", "grid_worker"])
def test_only_property_staff_or_the_office_record_payments(
    world: Any, persona: str, request: Any
) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    with pytest.raises(PermissionDenied):
        _pay(bill, "120.00", request.getfixturevalue(persona))
    with pytest.raises(PermissionDenied):
        _pay(bill, "120.00", _other_company_staff(world))
    assert not FeePayment.objects.exists()


def test_property_staff_cannot_record_a_correction(world: Any, property_staff: Any) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    _pay(bill, "120.00", property_staff)
    with pytest.raises(PermissionDenied):
        _pay(bill, "-20.00", property_staff)


# ---- selectors ---------------------------------------------------------------------


def _billed_and_partly_paid(world: Any, staff: Any, property_staff: Any) -> ServiceContract:
    contract = contract_of(world)
    bills_generate(contract=contract, period=MARCH, now=NOW, actor=staff)
    _pay(FeeBill.objects.get(household=world.household_a), "120.00", property_staff)
    return contract


def test_collection_rates_per_building_and_estate(
    world: Any, staff: Any, property_staff: Any, django_assert_max_num_queries: Any
) -> None:
    _billed_and_partly_paid(world, staff, property_staff)
    HouseholdFactory(unit=UnitFactory(building=world.building_b), area_m2=Decimal("100"))
    bills_generate(contract=ServiceContract.objects.get(), period=MARCH, now=NOW, actor=staff)
    with django_assert_max_num_queries(3):
        rates = collection_rates(user=property_staff, estate=world.estate, period=MARCH)
    by_building = {row.key: row for row in rates.rows}
    a, b = by_building[world.building_a.pk], by_building[world.building_b.pk]
    assert (a.households, a.billed, a.paid, a.bills_paid, a.rate) == (
        1,
        Decimal("120.00"),
        Decimal("120.00"),
        1,
        Decimal("1.0000"),
    )
    assert (b.households, b.billed, b.paid, b.rate) == (2, Decimal("270.00"), 0, Decimal("0"))
    assert rates.total.billed == Decimal("390.00")
    assert rates.total.rate == Decimal("0.3077")  # 120 / 390


def test_collection_rate_by_month(world: Any, staff: Any, property_staff: Any) -> None:
    contract = _billed_and_partly_paid(world, staff, property_staff)
    bills_generate(contract=contract, period=dt.date(2026, 4, 1), now=NOW, actor=staff)
    months = collection_rate_by_month(user=staff, estate=world.estate, year=2026)
    assert [(m.label, m.rate) for m in months.rows] == [
        ("2026-03", Decimal("0.5000")),
        ("2026-04", Decimal("0.0000")),
    ]
    assert collection_rate_by_month(user=staff, estate=world.estate, year=2025).rows == []


def test_another_company_and_the_outsider_see_no_fees(
    world: Any, staff: Any, property_staff: Any, outsider: Any
) -> None:
    _billed_and_partly_paid(world, staff, property_staff)
    as_of = dt.date(2026, 5, 1)
    for user in (outsider, _other_company_staff(world)):
        assert collection_rates(user=user, estate=world.estate, period=MARCH).rows == []
        assert arrears(user=user, estate=world.estate, as_of=as_of) == []
        assert not household_bills(user=user, household=world.household_a).exists()


def test_a_resident_sees_only_their_own_bills(
    world: Any, staff: Any, property_staff: Any, resident: Any
) -> None:
    _billed_and_partly_paid(world, staff, property_staff)
    mine = list(household_bills(user=resident, household=world.household_a))
    assert [(b.amount, b.outstanding, b.payable) for b in mine] == [
        (Decimal("120.00"), Decimal("0.00"), True)
    ]
    assert not household_bills(user=resident, household=world.household_b).exists()


def test_arrears_lists_households_past_due_with_masked_phones(
    world: Any, staff: Any, property_staff: Any
) -> None:
    _billed_and_partly_paid(world, staff, property_staff)
    # Not yet due on 2026-03-31 (due 30 days after March 1).
    assert arrears(user=staff, estate=world.estate, as_of=dt.date(2026, 3, 31)) == []
    rows = arrears(user=staff, estate=world.estate, as_of=dt.date(2026, 4, 1))
    assert [(r.household_id, r.bills, r.outstanding) for r in rows] == [
        (world.household_b.pk, 1, Decimal("120.00"))
    ]
    phone = world.resident_b.phone
    assert rows[0].phone_masked == f"{phone[:3]}****{phone[-4:]}"
    assert rows[0].resident_name == "李秀英"
