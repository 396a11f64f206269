"""The fee and contract pages: the office's contracts, an estate's month (bills generated,
serve-first release, collection rates), bills and payments, arrears and their download,
the payments import, and the resident's "my bills"; scoping and the outsider denied."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

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
from credit.models import PointsEntry
from grievances.tests.factories import CategoryFactory
from property_mgmt.models import FeeBill, FeePayment, ServiceContract
from property_mgmt.services.fees import bills_generate
from property_mgmt.tests.factories import ServiceContractFactory
from property_mgmt.tests.factories_fees import (
    MARCH,
    NOW,
    bill_for,
    contract_of,
    install_standard,
    survey_answers,
)

pytestmark = pytest.mark.django_db

Role = Membership.Role
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _url(name: str, *args: Any, **query: Any) -> str:
    url = reverse(f"property:{name}", args=args)
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def _estate_pages(world: Any, bill: FeeBill) -> list[str]:
    pk = world.estate.pk
    return [
        _url("fees-index"),
        _url("fees-estate", pk, month="2026-03"),
        _url("fees-bills", pk, month="2026-03"),
        _url("fees-arrears", pk),
        _url("fees-arrears-export", pk),
        _url("fees-import", pk),
        _url("fees-payment", bill.pk),
    ]


def _texts(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _workbook(*rows: list[Any]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(["楼栋", "单元", "房号", "月份", "金额", "缴费方式", "收据号", "缴费日期"])
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    data.name = "payments.xlsx"
    return data


def _row(bill: FeeBill, amount: str, receipt: str) -> list[Any]:
    household = bill.household
    return [
        household.unit.building.number,
        household.unit.number,
        household.room,
        f"{bill.period:%Y-%m}",
        amount,
        "现金",
        receipt,
        "2026-03-15",
    ]


# --- who may open the pages ----------------------------------------------------------------


def test_outsider_and_grid_worker_get_404_on_every_fee_page(
    client: Any, world: Any, outsider: Any, grid_worker: Any
) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    pages = [*_estate_pages(world, bill), _url("fees-contracts"), _url("fees-contract-new")]
    for user in (outsider, grid_worker):
        client.force_login(user)
        for url in pages:
            assert client.get(url).status_code == 404, url
        assert (
            client.post(_url("fees-generate", world.estate.pk), {"month": "2026-03"}).status_code
            == 404
        )
    assert not FeeBill.objects.filter(household=world.household_b).exists()


def test_anonymous_is_sent_to_log_in(client: Any, world: Any) -> None:
    for url in (_url("fees-my-bills"), _url("fees-index"), _url("fees-contracts")):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_staff_of_another_community_and_another_company_get_404(client: Any, world: Any) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    other_staff = UserFactory()
    MembershipFactory(user=other_staff, role=Role.COMMUNITY_STAFF, community=world.other)
    rival = UserFactory()
    MembershipFactory(
        user=rival,
        role=Role.PROPERTY_STAFF,
        organization=OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY),
    )
    for user in (other_staff, rival):
        client.force_login(user)
        for url in _estate_pages(world, bill)[1:]:
            assert client.get(url).status_code == 404, url
        response = client.post(
            _url("fees-payment", bill.pk),
            {"amount": "120.00", "method": "cash", "paid_at": "2026-03-10T10:00"},
        )
        assert response.status_code == 404
    assert not FeePayment.objects.exists()


def test_property_staff_see_their_company_estates_but_not_the_contracts(
    client: Any, world: Any, property_staff: Any
) -> None:
    client.force_login(property_staff)
    response = client.get(_url("fees-index"))
    assert response.status_code == 200
    assert [e.pk for e in response.context["estates"]] == [world.estate.pk]
    assert client.get(_url("fees-estate", world.other_estate.pk)).status_code == 404
    assert client.get(_url("fees-contracts")).status_code == 404
    assert client.get(_url("fees-contract-new")).status_code == 404


# --- an estate's month -----------------------------------------------------------------------


def test_generating_bills_shows_counts_and_households_without_floor_area(
    client: Any, world: Any, staff: Any
) -> None:
    contract_of(world)
    no_area = HouseholdFactory(
        unit=UnitFactory(building=world.building_b), room="502", area_m2=None
    )
    client.force_login(staff)
    response = client.post(_url("fees-generate", world.estate.pk), {"month": "2026-03"})
    assert response.status_code == 200
    run = response.context["run"]
    assert (run.created, run.existing) == (2, 0)
    assert [h.pk for h in response.context["skipped"]] == [no_area.pk]
    html = response.content.decode()
    assert 'data-testid="skipped"' in html and "502" in html
    assert FeeBill.objects.filter(period=MARCH).count() == 2
    # 80 m² × 1.50: the collection table shows the month billed, nothing paid yet.
    assert "¥240.00" in html and "0.0%" in html

    again = client.post(_url("fees-generate", world.estate.pk), {"month": "2026-03"})
    assert (again.context["run"].created, again.context["run"].existing) == (0, 2)
    assert FeeBill.objects.filter(period=MARCH).count() == 2


def test_generating_a_month_without_contract_is_refused(
    client: Any, world: Any, staff: Any
) -> None:
    client.force_login(staff)
    response = client.post(
        _url("fees-generate", world.estate.pk), {"month": "2026-03"}, follow=True
    )
    assert _("The estate has no contract for %(month)s.") % {"month": "2026-03"} in _texts(response)
    assert 'data-testid="generate"' not in response.content.decode()
    assert not FeeBill.objects.exists()


def test_estate_page_shows_collection_per_building_total_and_year(
    client: Any, world: Any, staff: Any
) -> None:
    contract = contract_of(world)
    bill_for(
        contract,
        world.household_a,
        amount=Decimal("1200.00"),
        paid_amount=Decimal("1200.00"),
        paid_at=NOW,
    )
    bill_for(contract, world.household_b, amount=Decimal("1000.00"), paid_amount=Decimal("250.00"))
    client.force_login(staff)
    response = client.get(_url("fees-estate", world.estate.pk, month="2026-03"))
    assert response.status_code == 200
    rates = [(r.label, r.rate, r.paid) for r in response.context["buildings"]]
    assert rates == [
        (world.building_a.number, "100.0%", "¥1,200.00"),
        (world.building_b.number, "25.0%", "¥250.00"),
    ]
    total = response.context["total"]
    assert (total.billed, total.paid, total.outstanding, total.rate) == (
        "¥2,200.00",
        "¥1,450.00",
        "¥750.00",
        "65.9%",
    )
    assert [(m.label, m.rate) for m in response.context["months"]] == [("2026-03", "65.9%")]
    assert "¥2,200.00" in response.content.decode()


def test_office_releases_serve_first_bills_of_satisfied_buildings_only(
    client: Any, world: Any, staff: Any, property_staff: Any
) -> None:
    contract = contract_of(
        world,
        billing_mode=ServiceContract.BillingMode.SERVE_FIRST,
        serve_first_threshold=Decimal("4.00"),
    )
    bills_generate(contract=contract, period=MARCH, now=NOW, actor=None)
    survey_answers(
        world,
        provider=world.property_company,
        building=world.building_a,
        ratings=[5, 4],
        actor=staff,
    )
    survey_answers(
        world,
        provider=world.property_company,
        building=world.building_b,
        ratings=[2, 3],
        actor=staff,
    )

    client.force_login(property_staff)
    page = client.get(_url("fees-estate", world.estate.pk, month="2026-03")).content.decode()
    assert 'data-testid="release"' not in page
    refused = client.post(_url("fees-release", world.estate.pk), {"month": "2026-03"}, follow=True)
    assert _("Only the community office can release serve-first bills.") in _texts(refused)
    assert not FeeBill.objects.filter(payable_from__isnull=False).exists()

    client.force_login(staff)
    assert (
        'data-testid="release"'
        in client.get(_url("fees-estate", world.estate.pk, month="2026-03")).content.decode()
    )
    response = client.post(_url("fees-release", world.estate.pk), {"month": "2026-03"}, follow=True)
    assert _("Bills released in %(count)s building(s): they can be paid now.") % {
        "count": 1
    } in _texts(response)
    assert FeeBill.objects.get(household=world.household_a).payable_from is not None
    assert FeeBill.objects.get(household=world.household_b).payable_from is None


# --- bills and payments ----------------------------------------------------------------------


def test_staff_records_a_payment_in_full_on_time_and_the_household_earns_points(
    client: Any, world: Any, staff: Any
) -> None:
    install_standard(world)
    bill = bill_for(contract_of(world), world.household_a)
    client.force_login(staff)
    form = client.get(_url("fees-payment", bill.pk))
    assert form.status_code == 200
    assert "¥120.00" in form.content.decode()
    response = client.post(
        _url("fees-payment", bill.pk),
        {"amount": "120.00", "method": "cash", "paid_at": "2026-03-10T10:00", "reference": "R-1"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == _url("fees-bills", world.estate.pk, month="2026-03")
    assert _("Payment recorded. Paid in full on time: the household earns points.") in _texts(
        response
    )
    bill.refresh_from_db()
    assert bill.paid_amount == Decimal("120.00") and bill.paid_at is not None
    assert PointsEntry.objects.filter(idempotency_key=f"fee-paid:{bill.pk}").count() == 1

    replay = client.post(
        _url("fees-payment", bill.pk),
        {"amount": "120.00", "method": "cash", "paid_at": "2026-03-10T10:00", "reference": "R-1"},
        follow=True,
    )
    assert _("This receipt number was recorded already; nothing changed.") in _texts(replay)
    assert FeePayment.objects.count() == 1


def test_overpaying_or_paying_an_unreleased_bill_is_refused_on_the_form(
    client: Any, world: Any, property_staff: Any
) -> None:
    contract = contract_of(world)
    bill = bill_for(contract, world.household_a)
    held = bill_for(contract, world.household_b, payable_from=None)
    client.force_login(property_staff)
    response = client.post(
        _url("fees-payment", bill.pk),
        {"amount": "500.00", "method": "cash", "paid_at": "2026-03-10T10:00"},
    )
    assert response.status_code == 200
    expected = _("The payment of %(amount)s is more than the %(outstanding)s outstanding.") % {
        "amount": Decimal("500.00"),
        "outstanding": Decimal("120.00"),
    }
    assert expected in response.context["form"].non_field_errors()
    response = client.post(
        _url("fees-payment", held.pk),
        {"amount": "120.00", "method": "cash", "paid_at": "2026-03-10T10:00"},
    )
    assert response.status_code == 200
    not_payable = _(
        "This bill is not payable yet: the building's satisfaction for the month "
        "has not reached the contract's threshold (serve first, charge after)."
    )
    assert not_payable in response.context["form"].non_field_errors()
    assert not FeePayment.objects.exists()


def test_property_staff_record_a_part_payment_on_their_estate(
    client: Any, world: Any, property_staff: Any
) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    client.force_login(property_staff)
    listing = client.get(_url("fees-bills", world.estate.pk, month="2026-03"))
    assert f'data-bill="{bill.pk}"' in listing.content.decode()
    response = client.post(
        _url("fees-payment", bill.pk),
        {"amount": "20.00", "method": "wechat", "paid_at": "2026-03-10T10:00"},
        follow=True,
    )
    assert _("Payment recorded.") in _texts(response)
    bill.refresh_from_db()
    assert bill.paid_amount == Decimal("20.00") and bill.paid_at is None
    assert FeePayment.objects.get().recorded_by == property_staff


# --- arrears and the import --------------------------------------------------------------------


def test_arrears_list_masks_phones_and_downloads_as_xlsx_with_a_chinese_name(
    client: Any, world: Any, staff: Any
) -> None:
    world.resident_a.phone = "13812345678"
    world.resident_a.save(update_fields=["phone"])
    bill_for(contract_of(world), world.household_a)
    client.force_login(staff)
    response = client.get(_url("fees-arrears", world.estate.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "张建国" in html and "¥120.00" in html
    assert "13812345678" not in html and "138****5678" in html

    download = client.get(_url("fees-arrears-export", world.estate.pk))
    assert download.status_code == 200
    assert download["Content-Type"] == XLSX
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote(_('Arrears'))}-{quote(world.estate.name)}" in disposition
    sheet = load_workbook(io.BytesIO(download.content)).worksheets[0]
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "张建国" in values and "13812345678" not in values


def test_import_shows_row_errors_then_counts_imported_and_replayed(
    client: Any, world: Any, staff: Any
) -> None:
    bill = bill_for(contract_of(world), world.household_a)
    client.force_login(staff)
    url = _url("fees-import", world.estate.pk)

    bad = client.post(url, {"file": _workbook(_row(bill, "abc", "R-9"))})
    assert bad.status_code == 200
    assert bad.context["result"].errors
    assert 'data-testid="import-errors"' in bad.content.decode()
    assert not FeePayment.objects.exists()

    good = client.post(url, {"file": _workbook(_row(bill, "120.00", "R-9"))})
    assert (good.context["result"].imported, good.context["result"].replayed) == (1, 0)
    assert 'data-testid="import-done"' in good.content.decode()
    again = client.post(url, {"file": _workbook(_row(bill, "120.00", "R-9"))})
    assert (again.context["result"].imported, again.context["result"].replayed) == (0, 1)
    assert FeePayment.objects.count() == 1


def test_import_refuses_a_file_that_is_not_xlsx(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    upload = io.BytesIO(b"building,unit\n")
    upload.name = "payments.csv"
    response = client.post(_url("fees-import", world.estate.pk), {"file": upload})
    assert response.status_code == 200
    assert _("Upload an Excel workbook (.xlsx).") in response.context["form"].errors["file"]


# --- contracts ----------------------------------------------------------------------------


def test_office_registers_a_contract_and_sees_it_listed(
    client: Any, world: Any, staff: Any
) -> None:
    category = CategoryFactory(name="楼道保洁")
    client.force_login(staff)
    form = client.get(_url("fees-contract-new"))
    assert form.status_code == 200
    assert world.property_company.name in form.content.decode()
    data = {
        "provider": world.property_company.pk,
        "estate": world.estate.pk,
        "starts_on": "2026-01-01",
        "ends_on": "2027-01-01",
        "fee_basis": "per_m2",
        "fee_standard": "1.80",
        "billing_mode": "serve_first",
        "serve_first_threshold": "4",
        "due_days": "20",
        "scope_categories": [category.pk],
        "promises": "1715",
    }
    response = client.post(_url("fees-contract-new"), data, follow=True)
    assert _("Contract registered.") in _texts(response)
    contract = ServiceContract.objects.get()
    assert contract.fee_standard == Decimal("1.80") and contract.serve_first_threshold == Decimal(
        "4"
    )
    assert list(contract.scope_categories.all()) == [category]
    html = response.content.decode()
    assert "楼道保洁" in html and "¥1.80" in html

    overlap = client.post(_url("fees-contract-new"), data)
    assert overlap.status_code == 200
    expected = _("The estate already has a contract from %(start)s to %(end)s.") % {
        "start": dt.date(2026, 1, 1),
        "end": dt.date(2027, 1, 1),
    }
    assert expected in overlap.context["form"].non_field_errors()
    assert ServiceContract.objects.count() == 1


def test_serve_first_contract_without_threshold_is_refused(
    client: Any, world: Any, staff: Any
) -> None:
    client.force_login(staff)
    response = client.post(
        _url("fees-contract-new"),
        {
            "provider": world.property_company.pk,
            "estate": world.estate.pk,
            "starts_on": "2026-01-01",
            "ends_on": "2027-01-01",
            "fee_basis": "per_household",
            "fee_standard": "100",
            "billing_mode": "serve_first",
            "due_days": "30",
        },
    )
    assert (
        _("Serve-first billing needs a satisfaction threshold between 1 and 5.")
        in response.context["form"].non_field_errors()
    )
    assert not ServiceContract.objects.exists()


def test_office_cannot_pick_another_community_or_its_estate(
    client: Any, world: Any, staff: Any
) -> None:
    client.force_login(staff)
    assert client.get(_url("fees-contracts", community=world.other.pk)).status_code == 404
    response = client.post(
        _url("fees-contract-new"),
        {
            "provider": world.property_company.pk,
            "estate": world.other_estate.pk,
            "starts_on": "2026-01-01",
            "ends_on": "2027-01-01",
            "fee_basis": "per_m2",
            "fee_standard": "1.5",
            "billing_mode": "normal",
            "due_days": "30",
        },
    )
    assert response.status_code == 200
    assert "estate" in response.context["form"].errors
    assert not ServiceContract.objects.exists()


# --- my bills (phone) ------------------------------------------------------------------------


def test_resident_sees_own_bills_newest_first_and_why_one_is_not_payable(
    client: Any, world: Any, resident: Any
) -> None:
    contract = contract_of(world)
    bill_for(
        contract,
        world.household_a,
        period=dt.date(2026, 2, 1),
        due_on=dt.date(2026, 3, 3),
        paid_amount=Decimal("120.00"),
        paid_at=NOW,
    )
    bill_for(contract, world.household_a, payable_from=None, amount=Decimal("1234.50"))
    bill_for(contract, world.household_b)  # a neighbour's
    client.force_login(resident)
    response = client.get(_url("fees-my-bills"))
    assert response.status_code == 200
    bills = list(response.context["page"].object_list)
    assert [b.period for b in bills] == [MARCH, dt.date(2026, 2, 1)]
    html = response.content.decode()
    assert "¥1,234.50" in html
    assert 'data-testid="serve-first-note"' in html
    assert html.count('data-testid="serve-first-note"') == 1


def test_user_without_household_is_told_to_ask_the_office(
    client: Any, world: Any, outsider: Any
) -> None:
    bill_for(contract_of(world), world.household_a)
    client.force_login(outsider)
    response = client.get(_url("fees-my-bills"))
    assert response.status_code == 200
    assert 'data-testid="no-household"' in response.content.decode()
    assert "data-bill=" not in response.content.decode()


# --- query counts --------------------------------------------------------------------------


def _queries(client: Any, url: str, capture: Any) -> int:
    with capture(60) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_make_as_many_queries_for_many_rows_as_for_one(
    client: Any, world: Any, staff: Any, resident: Any, django_assert_max_num_queries: Any
) -> None:
    contract = contract_of(world)
    bill_for(contract, world.household_a)
    other_contract = ServiceContractFactory(estate=EstateFactory(community=world.home))

    pk = world.estate.pk
    staff_urls = [
        _url("fees-estate", pk, month="2026-03"),
        _url("fees-bills", pk, month="2026-03"),
        _url("fees-arrears", pk),
        _url("fees-contracts"),
    ]
    client.force_login(staff)
    client.get(staff_urls[0])
    one = {url: _queries(client, url, django_assert_max_num_queries) for url in staff_urls}
    client.force_login(resident)
    mine_one = _queries(client, _url("fees-my-bills"), django_assert_max_num_queries)

    for n in range(12):
        building = world.building_a if n % 2 else world.building_b
        household = HouseholdFactory(unit=UnitFactory(building=building))
        ResidentFactory(household=household)
        bill_for(contract, household)
        bill_for(
            contract,
            world.household_a,
            period=dt.date(2025, 1 + n, 1),
            due_on=dt.date(2025, 12, 31),
        )
        ServiceContractFactory(
            estate=other_contract.estate,
            starts_on=dt.date(2010 + n, 1, 1),
            ends_on=dt.date(2011 + n, 1, 1),
        ).scope_categories.add(CategoryFactory())

    client.force_login(staff)
    for url in staff_urls:
        with django_assert_max_num_queries(one[url]):
            client.get(url)
    client.force_login(resident)
    with django_assert_max_num_queries(mine_one):
        response = client.get(_url("fees-my-bills"))
    assert response.context["page"].paginator.count == 13
