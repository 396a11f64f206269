"""The fund pages: the committee's fund page and its queue, income, an expense from request
with a quote photo through approval, payment and booking, corrections, the public ledger
(masked, for those who live in or serve the community) and the office's set-up page."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from community.tests.factories import HouseholdFactory, UnitFactory, UserFactory
from grievances.tests.factories import photo_upload
from property_mgmt.models import ExpenseRequest, Fund, FundEntry
from property_mgmt.services import funds as services
from property_mgmt.tests.factories_funds import (
    NOW,
    Committee,
    committee_member,
    committee_with_fund,
    office_staff,
)

pytestmark = pytest.mark.django_db
Status = ExpenseRequest.Status


@pytest.fixture(autouse=True)
def private_root(tmp_path: Path, settings: Any) -> Any:
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    yield settings.PRIVATE_STORAGE_ROOT
    shutil.rmtree(tmp_path / "private", ignore_errors=True)


@pytest.fixture
def c(world: Any) -> Committee:
    return committee_with_fund(world.estate, balance=1000)


def _page(c: Committee) -> str:
    return reverse("property:fund-page", args=[c.estate.pk])


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _requested(c: Committee, amount: Any = 200, *, photos: Any = None) -> ExpenseRequest:
    return services.expense_request(
        fund=c.fund, actor=c.member_a, purpose="清运垃圾", amount=amount, photos=photos, now=NOW
    )


# --- The fund page ----------------------------------------------------------------------


def test_fund_page_shows_balance_officers_and_what_waits_for_me(client: Any, c: Committee) -> None:
    expense = _requested(c, "1234.5")
    client.force_login(c.member_b)
    response = client.get(_page(c))
    assert response.status_code == 200
    html = response.content.decode()
    assert "¥1,000.00" in html
    assert "陈管钱" in html and "赵管账" in html
    assert [r.pk for r in response.context["queue"].to_decide] == [expense.pk]
    assert "¥1,234.50" in html
    assert reverse("property:fund-expense-new", args=[c.estate.pk]) in html


def test_requester_does_not_find_their_own_request_to_approve(client: Any, c: Committee) -> None:
    _requested(c)
    client.force_login(c.member_a)
    response = client.get(_page(c))
    assert response.context["queue"].count == 0
    assert 'data-testid="queue-empty"' in response.content.decode()


def test_fund_index_takes_a_member_of_one_fund_straight_to_it(client: Any, c: Committee) -> None:
    client.force_login(c.member_a)
    response = client.get(reverse("property:fund-index"))
    assert response.status_code == 302
    assert response["Location"] == _page(c)


def test_fund_index_takes_a_resident_to_their_estates_public_ledger(
    client: Any, c: Committee, resident: Any
) -> None:
    client.force_login(resident)
    response = client.get(reverse("property:fund-index"))
    assert response["Location"] == reverse("property:fund-ledger", args=[c.estate.pk])


def test_outsider_and_other_community_staff_get_404(
    client: Any, world: Any, c: Committee, outsider: Any
) -> None:
    other_office = office_staff(world.other_estate, "外社区干事")
    for user in (outsider, other_office, committee_member(world.other_estate, "外委员")):
        client.force_login(user)
        assert client.get(_page(c)).status_code == 404
    client.logout()
    response = client.get(_page(c))
    assert response.status_code == 302 and "login" in response["Location"]


def test_property_staff_cannot_open_the_committees_fund(
    client: Any, c: Committee, property_staff: Any
) -> None:
    client.force_login(property_staff)
    assert client.get(_page(c)).status_code == 404


# --- Income -----------------------------------------------------------------------------


def test_keeper_records_a_households_annual_fee_picking_building_then_room(
    client: Any, world: Any, c: Committee
) -> None:
    url = reverse("property:fund-income", args=[c.estate.pk])
    client.force_login(c.keeper)
    picker = client.get(url, {"building": world.building_a.pk})
    assert world.household_a.pk in dict(picker.context["form"].fields["household"].choices)
    assert world.household_b.pk not in dict(picker.context["form"].fields["household"].choices)
    response = client.post(
        url,
        {
            "building": world.building_a.pk,
            "kind": "fee",
            "amount": "300",
            "occurred_on": timezone.localdate().isoformat(),
            "household": world.household_a.pk,
            "payer_name": "张建国",
            "description": "",
        },
        follow=True,
    )
    assert _("Income recorded.") in _messages(response)
    entry = FundEntry.objects.get(kind="fee")
    assert entry.household == world.household_a and entry.amount == Decimal("300.00")
    assert c.reload().balance == Decimal("1300.00")


def test_annual_fee_without_a_household_is_refused_with_the_reason(
    client: Any, c: Committee
) -> None:
    client.force_login(c.bookkeeper)
    response = client.post(
        reverse("property:fund-income", args=[c.estate.pk]),
        {"kind": "fee", "amount": "300", "occurred_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200
    assert _("Say which household paid the annual fee.") in response.content.decode()
    assert c.reload().balance == Decimal("1000.00")


def test_a_member_who_is_no_officer_may_not_record_income(client: Any, c: Committee) -> None:
    client.force_login(c.member_a)
    response = client.get(reverse("property:fund-income", args=[c.estate.pk]), follow=True)
    assert _("Only the keeper or the bookkeeper may record income.") in _messages(response)


# --- Expenses ---------------------------------------------------------------------------


def test_expense_journey_request_with_photo_approve_pay_book(client: Any, c: Committee) -> None:
    client.force_login(c.member_a)
    response = client.post(
        reverse("property:fund-expense-new", args=[c.estate.pk]),
        {"purpose": "更换楼道灯", "amount": "150.5", "photos": [photo_upload("quote.jpg")]},
    )
    expense = ExpenseRequest.objects.get()
    assert response["Location"] == reverse("property:fund-expense", args=[expense.pk])
    page = client.get(response["Location"])
    (quote,) = page.context["quotes"]
    assert reverse("property:fund-photo", args=[quote.pk]) in page.content.decode()
    assert not page.context["may_decide"]  # not one's own
    photo = client.get(reverse("property:fund-photo", args=[quote.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert "private" in photo["Cache-Control"]

    action = "property:fund-expense-action"
    client.force_login(c.member_b)
    client.post(reverse(action, args=[expense.pk, "approve"]))
    client.force_login(c.keeper)
    client.post(
        reverse(action, args=[expense.pk, "pay"]), {"photos": [photo_upload("receipt.jpg")]}
    )
    client.force_login(c.bookkeeper)
    response = client.post(reverse(action, args=[expense.pk, "book"]), follow=True)
    assert _("Expense booked.") in _messages(response)
    expense.refresh_from_db()
    assert expense.status == Status.BOOKED
    assert len(response.context["receipts"]) == 1
    history = response.content.decode()
    for name in ("钱委员", "孙委员", "陈管钱", "赵管账"):
        assert name in history
    assert c.reload().balance == Decimal("849.50")


def test_reject_without_a_note_is_refused(client: Any, c: Committee) -> None:
    expense = _requested(c)
    client.force_login(c.member_b)
    url = reverse("property:fund-expense-action", args=[expense.pk, "reject"])
    response = client.post(url, {"note": " "}, follow=True)
    assert _("Say why the expense is rejected.") in _messages(response)
    response = client.post(url, {"note": "报价太高"}, follow=True)
    expense.refresh_from_db()
    assert expense.status == Status.REJECTED
    assert "报价太高" in response.content.decode()


def test_only_the_keeper_may_pay_and_not_more_than_the_balance(client: Any, c: Committee) -> None:
    expense = c.approved(2000)
    url = reverse("property:fund-expense-action", args=[expense.pk, "pay"])
    client.force_login(c.bookkeeper)
    response = client.post(url, follow=True)
    assert _("Only the fund's keeper may pay an expense.") in _messages(response)
    client.force_login(c.keeper)
    response = client.post(url, follow=True)
    expense.refresh_from_db()
    assert expense.status == Status.APPROVED
    assert any("1000.00" in m for m in _messages(response))
    assert c.reload().balance == Decimal("1000.00")


def test_expense_and_its_photos_are_404_out_of_scope(
    client: Any, world: Any, c: Committee, outsider: Any, property_staff: Any
) -> None:
    expense = _requested(c, photos=[photo_upload("quote.jpg")])
    attachment = expense.attachments.get()
    for user in (outsider, property_staff, office_staff(world.other_estate, "外社区干事")):
        client.force_login(user)
        assert client.get(reverse("property:fund-expense", args=[expense.pk])).status_code == 404
        assert client.get(reverse("property:fund-photo", args=[attachment.pk])).status_code == 404
        url = reverse("property:fund-expense-action", args=[expense.pk, "approve"])
        assert client.post(url).status_code == 404
    expense.refresh_from_db()
    assert expense.status == Status.REQUESTED


def test_a_bad_photo_is_refused_and_nothing_is_requested(client: Any, c: Committee) -> None:
    client.force_login(c.member_a)
    fake = SimpleUploadedFile("quote.jpg", b"not an image", content_type="image/jpeg")
    response = client.post(
        reverse("property:fund-expense-new", args=[c.estate.pk]),
        {"purpose": "换锁", "amount": "80", "photos": [fake]},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not ExpenseRequest.objects.exists()


def test_expense_form_offers_the_phone_camera(client: Any, c: Committee) -> None:
    client.force_login(c.member_a)
    html = client.get(reverse("property:fund-expense-new", args=[c.estate.pk])).content.decode()
    assert re.search(r'<input[^>]*type="file"[^>]*accept="image/\*"[^>]*capture', html)


# --- Corrections ------------------------------------------------------------------------


def test_bookkeeper_corrects_an_entry_with_a_reason(client: Any, c: Committee) -> None:
    entry = FundEntry.objects.get()
    url = reverse("property:fund-entry-correct", args=[entry.pk])
    client.force_login(c.bookkeeper)
    response = client.post(url, {"amount": "-100", "reason": ""})
    assert response.status_code == 200 and not FundEntry.objects.filter(kind="correction")
    response = client.post(url, {"amount": "-100", "reason": "多记了100元"}, follow=True)
    assert _("Correction recorded.") in _messages(response)
    assert c.reload().balance == Decimal("900.00")
    assert FundEntry.objects.get(kind="correction").corrects == entry


def test_keeper_may_not_correct_entries(client: Any, c: Committee) -> None:
    entry = FundEntry.objects.get()
    client.force_login(c.keeper)
    response = client.post(
        reverse("property:fund-entry-correct", args=[entry.pk]),
        {"amount": "-100", "reason": "多记"},
        follow=True,
    )
    assert _("Only the fund's bookkeeper may correct entries.") in _messages(response)
    assert c.reload().balance == Decimal("1000.00")


# --- The public ledger ------------------------------------------------------------------


def _ledger(c: Committee, year: int | None = None) -> str:
    url = reverse("property:fund-ledger", args=[c.estate.pk])
    return f"{url}?year={year}" if year else url


def test_public_ledger_shows_the_month_with_masked_names_and_balance(
    client: Any, world: Any, c: Committee, resident: Any
) -> None:
    c.income(300, household=world.household_a)
    c.paid(120, purpose="清运垃圾")
    client.force_login(resident)
    response = client.get(_ledger(c, NOW.year))
    assert response.status_code == 200
    html = response.content.decode()
    assert "清运垃圾" in html
    assert "钱**" in html and "孙**" in html and "陈**" in html  # requested, approved, paid
    assert "钱委员" not in html and "陈管钱" not in html
    assert "¥1,180.00" in html  # month-end balance: 1000 + 300 − 120
    assert "-¥120.00" in html
    assert "size: A4" in html  # printable for the noticeboard
    assert world.household_a.room not in re.sub(r"<[^>]+>", " ", html).split()
    march = [m for m in response.context["months"] if m["lines"]]
    assert [m["month"].month for m in march] == [NOW.month]


def test_public_ledger_is_open_to_those_who_live_in_or_serve_the_community(
    client: Any,
    world: Any,
    c: Committee,
    grid_worker: Any,
    staff: Any,
    property_staff: Any,
    street_supervisor: Any,
) -> None:
    for user in (grid_worker, staff, property_staff, street_supervisor, c.member_a):
        client.force_login(user)
        assert client.get(_ledger(c)).status_code == 200


def test_public_ledger_is_denied_to_outsiders_and_other_communities(
    client: Any, world: Any, c: Committee, outsider: Any
) -> None:
    other = UserFactory(name="王芳")
    world.other_resident.user = other
    world.other_resident.save(update_fields=["user"])
    for user in (outsider, other):
        client.force_login(user)
        assert client.get(_ledger(c)).status_code == 404
    client.logout()
    assert client.get(_ledger(c)).status_code == 302


def test_ledger_of_an_estate_without_fund_is_404(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    assert client.get(reverse("property:fund-ledger", args=[world.estate.pk])).status_code == 404


# --- The office -------------------------------------------------------------------------


def test_office_opens_a_fund_naming_two_committee_members(
    client: Any, world: Any, staff: Any
) -> None:
    keeper = committee_member(world.estate, "陈管钱")
    bookkeeper = committee_member(world.estate, "赵管账")
    client.force_login(staff)
    listing = client.get(reverse("property:fund-office"))
    assert reverse("property:fund-setup", args=[world.estate.pk]) in listing.content.decode()
    url = reverse("property:fund-setup", args=[world.estate.pk])
    same = {"name": "自管委资金", "keeper": keeper.pk, "bookkeeper": keeper.pk, "annual_fee": "300"}
    response = client.post(url, same)
    assert response.status_code == 200
    assert not Fund.objects.exists()
    assert response.context["form"].non_field_errors()
    response = client.post(url, {**same, "bookkeeper": bookkeeper.pk}, follow=True)
    assert _("The fund is open.") in _messages(response)
    fund = Fund.objects.get()
    assert (fund.keeper, fund.bookkeeper, fund.annual_fee) == (keeper, bookkeeper, 300)


def test_office_changes_officers(client: Any, c: Committee) -> None:
    client.force_login(c.office)
    url = reverse("property:fund-setup", args=[c.estate.pk])
    response = client.post(
        url, {"keeper": c.member_a.pk, "bookkeeper": c.bookkeeper.pk}, follow=True
    )
    assert _("Officers changed.") in _messages(response)
    assert c.reload().keeper == c.member_a


def test_office_pages_are_404_for_committee_members_and_other_offices(
    client: Any, world: Any, c: Committee, outsider: Any
) -> None:
    url = reverse("property:fund-setup", args=[c.estate.pk])
    for user in (c.keeper, outsider, office_staff(world.other_estate, "外社区干事")):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert (
            client.post(url, {"keeper": c.member_a.pk, "bookkeeper": c.bookkeeper.pk}).status_code
            == 404
        )
    assert c.reload().keeper == c.keeper


# --- Query counts -----------------------------------------------------------------------


def _queries(client: Any, url: str, capture: Any) -> int:
    with capture(80) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_make_as_many_queries_for_many_rows_as_for_one(
    client: Any, world: Any, c: Committee, django_assert_max_num_queries: Any
) -> None:
    def one_more(n: int) -> None:
        household = HouseholdFactory(unit=UnitFactory(building=world.building_a))
        c.income(300, household=household)
        expense = _requested(c, 10 + n)
        if n % 2:
            services.expense_decide(
                expense=expense, actor=c.member_b, approve=True, note="", now=NOW
            )
            services.expense_pay(expense=expense, actor=c.keeper, now=NOW)

    one_more(1)
    urls = [
        _page(c),
        reverse("property:fund-entries", args=[c.estate.pk]),
        _ledger(c, NOW.year),
        reverse("property:fund-office"),
    ]
    client.force_login(c.bookkeeper)
    client.get(urls[0])
    counts = {}
    for url in urls[:3]:
        counts[url] = _queries(client, url, django_assert_max_num_queries)
    client.force_login(c.office)
    counts[urls[3]] = _queries(client, urls[3], django_assert_max_num_queries)
    for n in range(2, 12):
        one_more(n)
    client.force_login(c.bookkeeper)
    for url in urls[:3]:
        with django_assert_max_num_queries(counts[url]):
            client.get(url)
    client.force_login(c.office)
    with django_assert_max_num_queries(counts[urls[3]]):
        client.get(urls[3])
    client.force_login(c.bookkeeper)
    assert client.get(urls[1]).context["page"].paginator.count == 1 + 11 + 6
