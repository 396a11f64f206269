"""Self-managed funds: two people for every yuan, a balance that never goes negative,
append-only entries, a public ledger with masked names, and who may see what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from community.models import Membership
from community.tests.factories import MembershipFactory
from property_mgmt.models import ExpenseRequest, Fund, FundEntry
from property_mgmt.selectors import funds as selectors
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
D = Decimal


def code(exc: ValidationError) -> str | None:
    """The code of a ValidationError, whether it names a field or not."""
    if hasattr(exc, "error_dict"):
        return next(iter(exc.error_dict.values()))[0].code
    return exc.code


@pytest.fixture
def c(world: Any) -> Committee:
    """The fund of world.estate holding 1,000 RMB."""
    return committee_with_fund(world.estate, balance=1000)


# --- Opening a fund and its officers ------------------------------------------------------


def test_office_opens_a_fund_with_two_committee_members(world: Any) -> None:
    c = committee_with_fund(world.estate)
    assert c.fund.keeper == c.keeper and c.fund.bookkeeper == c.bookkeeper
    assert c.fund.balance == 0 and c.fund.annual_fee == D("300.00")
    assert c.fund.history.get().history_user == c.office


def test_keeper_and_bookkeeper_must_be_different_people(world: Any) -> None:
    c = committee_with_fund(world.estate)
    other = committee_member(world.other_estate, "周委员")
    office = office_staff(world.other_estate)
    with pytest.raises(ValidationError) as caught:
        services.fund_create(
            actor=office,
            estate=world.other_estate,
            name="自管委资金",
            keeper=other,
            bookkeeper=other,
            annual_fee=300,
            now=NOW,
        )
    assert code(caught.value) == "keeper_is_bookkeeper"
    assert caught.value.messages[0] == _(
        "The keeper and the bookkeeper must be different people: one keeps the money, "
        "the other keeps the books."
    )
    assert not Fund.objects.filter(estate=world.other_estate).exists()
    with pytest.raises(ValidationError) as caught:
        services.fund_officers_change(
            fund=c.fund, actor=c.office, keeper=c.keeper, bookkeeper=c.keeper, now=NOW
        )
    assert code(caught.value) == "keeper_is_bookkeeper"


def test_database_refuses_a_fund_kept_and_booked_by_one_person(c: Committee) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=c.fund.pk).update(bookkeeper=c.keeper)
    assert c.reload().bookkeeper == c.bookkeeper


def test_officers_must_sit_on_the_estates_committee(world: Any, c: Committee) -> None:
    outsider_member = committee_member(world.other_estate, "周委员")
    with pytest.raises(ValidationError) as caught:
        services.fund_officers_change(
            fund=c.fund, actor=c.office, keeper=outsider_member, bookkeeper=c.bookkeeper, now=NOW
        )
    assert code(caught.value) == "not_committee"


def test_only_the_office_opens_a_fund_or_changes_its_officers(
    world: Any, c: Committee, outsider: Any, property_staff: Any
) -> None:
    for actor in (c.member_a, c.keeper, outsider, property_staff):
        with pytest.raises(PermissionDenied):
            services.fund_officers_change(
                fund=c.fund, actor=actor, keeper=c.member_a, bookkeeper=c.member_b, now=NOW
            )
    assert c.reload().keeper == c.keeper


def test_a_committee_member_cannot_open_a_fund_themselves(world: Any, outsider: Any) -> None:
    keeper = committee_member(world.other_estate, "周委员")
    bookkeeper = committee_member(world.other_estate, "吴委员")
    for actor in (keeper, outsider, office_staff(world.estate, "郑干事")):
        with pytest.raises(PermissionDenied):
            services.fund_create(
                actor=actor,
                estate=world.other_estate,
                name="自管委资金",
                keeper=keeper,
                bookkeeper=bookkeeper,
                annual_fee=300,
                now=NOW,
            )
    assert not Fund.objects.filter(estate=world.other_estate).exists()


def test_a_second_fund_for_an_estate_is_refused(world: Any, c: Committee) -> None:
    with pytest.raises(ValidationError) as caught:
        services.fund_create(
            actor=c.office,
            estate=world.estate,
            name="又一个",
            keeper=c.member_a,
            bookkeeper=c.member_b,
            annual_fee=0,
            now=NOW,
        )
    assert code(caught.value) == "fund_exists"


def test_officers_change_is_recorded_with_who_made_it(c: Committee) -> None:
    later = NOW + dt.timedelta(days=30)
    services.fund_officers_change(
        fund=c.fund,
        actor=c.office,
        keeper=c.member_a,
        bookkeeper=c.member_b,
        now=later,
        reason="换届",
    )
    fund = c.reload()
    assert (fund.keeper, fund.bookkeeper) == (c.member_a, c.member_b)
    latest = fund.history.order_by("-history_date").first()
    assert latest is not None
    assert latest.history_user == c.office and latest.history_change_reason == "换届"
    assert latest.keeper_id == c.member_a.pk


# --- Income -------------------------------------------------------------------------------


def test_keeper_records_a_households_annual_fee(world: Any, c: Committee) -> None:
    entry = services.fund_income_record(
        fund=c.fund,
        actor=c.bookkeeper,
        kind=FundEntry.Kind.FEE,
        amount="300",
        occurred_on=NOW.date(),
        household=world.household_a,
        payer_name="张建国",
        description="2026年卫生费",
        now=NOW,
    )
    assert entry.amount == D("300.00") and entry.balance_after == D("1300.00")
    assert c.reload().balance == D("1300.00")


def test_a_fee_needs_a_household_of_the_estate(world: Any, c: Committee) -> None:
    for household in (None, world.other_household):
        with pytest.raises(ValidationError) as caught:
            services.fund_income_record(
                fund=c.fund,
                actor=c.keeper,
                kind=FundEntry.Kind.FEE,
                amount=300,
                occurred_on=NOW.date(),
                household=household,
                now=NOW,
            )
        assert code(caught.value) == "household"
    assert c.reload().balance == D("1000.00")


def test_only_the_officers_record_income(c: Committee, staff: Any, outsider: Any) -> None:
    for actor in (c.member_a, staff, outsider):
        with pytest.raises(PermissionDenied):
            services.fund_income_record(
                fund=c.fund,
                actor=actor,
                kind=FundEntry.Kind.DONATION,
                amount=50,
                occurred_on=NOW.date(),
                now=NOW,
            )
    assert c.fund.entries.count() == 1


@pytest.mark.parametrize("amount", ["0", "-5", "12.345", "abc"])
def test_income_amount_must_be_positive_rmb(c: Committee, amount: str) -> None:
    with pytest.raises(ValidationError):
        services.fund_income_record(
            fund=c.fund,
            actor=c.keeper,
            kind=FundEntry.Kind.DONATION,
            amount=amount,
            occurred_on=NOW.date(),
            now=NOW,
        )


def test_income_cannot_be_dated_in_the_future(c: Committee) -> None:
    with pytest.raises(ValidationError) as caught:
        services.fund_income_record(
            fund=c.fund,
            actor=c.keeper,
            kind=FundEntry.Kind.DONATION,
            amount=10,
            occurred_on=NOW.date() + dt.timedelta(days=1),
            now=NOW,
        )
    assert code(caught.value) == "future"


# --- Expenses -----------------------------------------------------------------------------


def test_the_whole_round_request_approve_pay_book(c: Committee) -> None:
    expense = services.expense_request(
        fund=c.fund, actor=c.member_a, purpose="更换楼道灯", amount="120.50", now=NOW
    )
    assert expense.status == Status.REQUESTED
    services.expense_decide(expense=expense, actor=c.member_b, approve=True, note="同意", now=NOW)
    paid = services.expense_pay(expense=expense, actor=c.keeper, now=NOW)
    assert paid.status == Status.PAID
    entry = FundEntry.objects.get(expense=expense)
    assert entry.kind == FundEntry.Kind.EXPENSE and entry.amount == D("-120.50")
    assert entry.balance_after == D("879.50") and c.reload().balance == D("879.50")
    booked = services.expense_book(expense=expense, actor=c.bookkeeper, now=NOW)
    expense.refresh_from_db()
    assert booked.status == expense.status == Status.BOOKED
    assert (expense.decided_by, expense.paid_by, expense.booked_by) == (
        c.member_b,
        c.keeper,
        c.bookkeeper,
    )
    assert [h.history_user for h in expense.history.order_by("history_date", "history_id")] == [
        c.member_a,
        c.member_b,
        c.keeper,
        c.bookkeeper,
    ]


def test_only_committee_members_of_the_estate_request_expenses(
    world: Any, c: Committee, staff: Any, outsider: Any, property_staff: Any
) -> None:
    stranger = committee_member(world.other_estate, "周委员")
    for actor in (stranger, staff, outsider, property_staff):
        with pytest.raises(PermissionDenied):
            services.expense_request(fund=c.fund, actor=actor, purpose="买扫帚", amount=30, now=NOW)
    assert not ExpenseRequest.objects.exists()


def test_an_inactive_committee_seat_counts_for_nothing(c: Committee) -> None:
    Membership.objects.filter(user=c.member_b).update(is_active=False)
    expense = services.expense_request(
        fund=c.fund, actor=c.member_a, purpose="买扫帚", amount=30, now=NOW
    )
    with pytest.raises(PermissionDenied):
        services.expense_decide(expense=expense, actor=c.member_b, approve=True, now=NOW)


def test_the_requester_cannot_approve_their_own_request(c: Committee) -> None:
    expense = services.expense_request(
        fund=c.fund, actor=c.member_a, purpose="买扫帚", amount=30, now=NOW
    )
    with pytest.raises(PermissionDenied) as caught:
        services.expense_decide(expense=expense, actor=c.member_a, approve=True, now=NOW)
    assert str(caught.value) == _(
        "You requested this expense: another committee member must decide it."
    )
    expense.refresh_from_db()
    assert expense.status == Status.REQUESTED and expense.decided_by is None


def test_database_refuses_a_request_decided_by_its_requester(c: Committee) -> None:
    expense = services.expense_request(
        fund=c.fund, actor=c.member_a, purpose="买扫帚", amount=30, now=NOW
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ExpenseRequest.objects.filter(pk=expense.pk).update(
            status=Status.APPROVED, decided_by=c.member_a, decided_at=NOW
        )


def test_a_rejection_says_why_and_a_decision_is_final(c: Committee) -> None:
    expense = services.expense_request(
        fund=c.fund, actor=c.member_a, purpose="买扫帚", amount=30, now=NOW
    )
    with pytest.raises(ValidationError):
        services.expense_decide(expense=expense, actor=c.member_b, approve=False, note="", now=NOW)
    services.expense_decide(
        expense=expense, actor=c.member_b, approve=False, note="价格太高", now=NOW
    )
    with pytest.raises(ValidationError) as caught:
        services.expense_decide(expense=expense, actor=c.keeper, approve=True, now=NOW)
    assert code(caught.value) == "already_decided"
    expense.refresh_from_db()
    assert expense.status == Status.REJECTED and expense.decision_note == "价格太高"
    with pytest.raises(ValidationError) as caught:
        services.expense_pay(expense=expense, actor=c.keeper, now=NOW)
    assert code(caught.value) == "not_approved"


def test_only_the_keeper_pays(c: Committee, staff: Any) -> None:
    expense = c.approved(100)
    for actor in (c.bookkeeper, c.member_a, c.member_b, staff):
        with pytest.raises(PermissionDenied):
            services.expense_pay(expense=expense, actor=actor, now=NOW)
    expense.refresh_from_db()
    assert expense.status == Status.APPROVED
    assert c.reload().balance == D("1000.00")


def test_an_unapproved_request_cannot_be_paid(c: Committee) -> None:
    expense = services.expense_request(
        fund=c.fund, actor=c.member_a, purpose="买扫帚", amount=30, now=NOW
    )
    with pytest.raises(ValidationError) as caught:
        services.expense_pay(expense=expense, actor=c.keeper, now=NOW)
    assert code(caught.value) == "not_approved"


def test_a_payment_larger_than_the_balance_is_refused(c: Committee) -> None:
    expense = c.approved("1000.01")
    with pytest.raises(ValidationError) as caught:
        services.expense_pay(expense=expense, actor=c.keeper, now=NOW)
    assert code(caught.value) == "balance_short"
    assert "1000.00" in caught.value.messages[0] and "1000.01" in caught.value.messages[0]
    expense.refresh_from_db()
    assert expense.status == Status.APPROVED
    assert c.reload().balance == D("1000.00") and not FundEntry.objects.filter(expense=expense)
    # The whole balance may be spent.
    services.expense_pay(expense=c.approved(1000), actor=c.keeper, now=NOW)
    assert c.reload().balance == 0


def test_database_refuses_a_negative_balance(c: Committee) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=c.fund.pk).update(balance=D("-0.01"))


def test_only_the_bookkeeper_books_and_only_what_was_paid(c: Committee, staff: Any) -> None:
    approved = c.approved(50)
    with pytest.raises(ValidationError) as caught:
        services.expense_book(expense=approved, actor=c.bookkeeper, now=NOW)
    assert code(caught.value) == "not_paid"
    paid = services.expense_pay(expense=approved, actor=c.keeper, now=NOW)
    for actor in (c.keeper, c.member_a, staff):
        with pytest.raises(PermissionDenied):
            services.expense_book(expense=paid, actor=actor, now=NOW)
    services.expense_book(expense=paid, actor=c.bookkeeper, now=NOW)
    with pytest.raises(ValidationError):
        services.expense_book(expense=paid, actor=c.bookkeeper, now=NOW)


def test_whoever_paid_may_not_book_even_after_the_officers_swap(c: Committee) -> None:
    paid = c.paid(50)
    services.fund_officers_change(
        fund=c.fund, actor=c.office, keeper=c.bookkeeper, bookkeeper=c.keeper, now=NOW
    )
    with pytest.raises(PermissionDenied):
        services.expense_book(expense=paid, actor=c.keeper, now=NOW)


# --- Corrections and append-only ----------------------------------------------------------


def test_a_correction_is_a_new_entry_pointing_at_the_old_one(c: Committee) -> None:
    wrong = c.income(300)
    correction = services.fund_entry_correct(
        entry=wrong, actor=c.bookkeeper, amount="-270", reason="应为30元", now=NOW
    )
    wrong.refresh_from_db()
    assert wrong.amount == D("300.00")
    assert correction.kind == FundEntry.Kind.CORRECTION and correction.corrects == wrong
    assert correction.amount == D("-270.00") and correction.balance_after == D("1030.00")
    assert c.reload().balance == D("1030.00")
    with pytest.raises(ValidationError) as caught:
        services.fund_entry_correct(
            entry=wrong, actor=c.bookkeeper, amount="-1", reason="again", now=NOW
        )
    assert code(caught.value) == "already_corrected"


def test_only_the_bookkeeper_corrects_and_never_below_zero(c: Committee) -> None:
    entry = c.fund.entries.get()
    with pytest.raises(PermissionDenied):
        services.fund_entry_correct(entry=entry, actor=c.keeper, amount=-1, reason="x", now=NOW)
    with pytest.raises(ValidationError) as caught:
        services.fund_entry_correct(
            entry=entry, actor=c.bookkeeper, amount="-1000.01", reason="冲销", now=NOW
        )
    assert code(caught.value) == "balance_short"
    assert c.reload().balance == D("1000.00") and c.fund.entries.count() == 1


@pytest.mark.services
def test_entries_cannot_be_updated_or_deleted(require_postgres: None, c: Committee) -> None:
    entry = c.fund.entries.get()
    for statement in (
        "UPDATE property_mgmt_fundentry SET amount = 5000 WHERE id = %s",
        "DELETE FROM property_mgmt_fundentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.pk])
    entry.refresh_from_db()
    assert entry.amount == D("1000.00")


# --- Who sees what ------------------------------------------------------------------------


def test_the_committee_and_the_office_see_the_fund(
    c: Committee, staff: Any, street_supervisor: Any
) -> None:
    for user in (c.member_a, c.keeper, staff, street_supervisor):
        assert selectors.fund_for(user=user, estate=c.estate) == c.fund


def test_outsiders_and_another_estates_committee_are_denied(
    world: Any, c: Committee, outsider: Any, resident: Any, property_staff: Any, grid_worker: Any
) -> None:
    stranger = committee_member(world.other_estate, "周委员")
    other_office = MembershipFactory(
        role=Membership.Role.COMMUNITY_STAFF, community=world.other
    ).user
    for user in (outsider, stranger, other_office, resident, property_staff, grid_worker):
        with pytest.raises(Fund.DoesNotExist):
            selectors.fund_for(user=user, estate=c.estate)
        with pytest.raises(Fund.DoesNotExist):
            selectors.expense_queue(user=user, fund=c.fund)


def test_the_queue_shows_each_person_what_waits_for_them(c: Committee, staff: Any) -> None:
    requested = services.expense_request(
        fund=c.fund, actor=c.member_a, purpose="买扫帚", amount=30, now=NOW
    )
    approved = c.approved(40)
    paid = c.paid(50)

    def queue(user: Any) -> tuple[list[int], list[int], list[int]]:
        q = selectors.expense_queue(user=user, fund=c.fund)
        return [e.pk for e in q.to_decide], [e.pk for e in q.to_pay], [e.pk for e in q.to_book]

    assert queue(c.member_a) == ([], [], [])  # their own request waits for someone else
    assert queue(c.member_b) == ([requested.pk], [], [])
    assert queue(c.keeper) == ([requested.pk], [approved.pk], [])
    assert queue(c.bookkeeper) == ([requested.pk], [], [paid.pk])
    office_queue = selectors.expense_queue(user=staff, fund=c.fund)
    assert office_queue.count == 0
    assert {e.pk for e in office_queue.open} == {requested.pk, approved.pk, paid.pk}


# --- The public ledger --------------------------------------------------------------------


def _ledger_fixture(world: Any, c: Committee) -> tuple[Any, Any]:
    march, april = NOW, NOW + dt.timedelta(days=31)
    services.fund_income_record(
        fund=c.fund,
        actor=c.keeper,
        kind=FundEntry.Kind.FEE,
        amount=300,
        occurred_on=march.date(),
        household=world.household_a,
        payer_name="张建国",
        description="2026年卫生费",
        now=march,
    )
    paid = c.paid(200, purpose="清运建筑垃圾", now=april)
    services.expense_book(expense=paid, actor=c.bookkeeper, now=april)
    return march, april


def test_public_ledger_shows_every_entry_with_its_approvals_and_masked_names(
    world: Any, c: Committee
) -> None:
    _ledger_fixture(world, c)
    ledger = selectors.public_ledger(estate=c.estate, year=2026)
    march, april = ledger.months[2], ledger.months[3]
    assert [line.amount for line in march.lines] == [D("1000.00"), D("300.00")]
    assert march.income == D("1300.00") and march.closing_balance == D("1300.00")
    fee = march.lines[1]
    assert fee.payer == f"{world.building_a.number} 张**"
    assert world.household_a.room not in fee.payer
    (expense,) = april.lines
    assert expense.amount == D("-200.00") and expense.balance == D("1100.00")
    assert april.expense == D("200.00") and april.closing_balance == D("1100.00")
    assert (expense.requested_by, expense.approved_by, expense.paid_by, expense.booked_by) == (
        "钱**",
        "孙**",
        "陈**",
        "赵**",
    )
    assert expense.status == Status.BOOKED
    assert (ledger.keeper, ledger.bookkeeper) == ("陈**", "赵**")
    assert ledger.closing_balance == ledger.balance_now == D("1100.00")
    shown = repr(ledger)
    for secret in ("张建国", "钱委员", "陈管钱", c.keeper.phone, c.member_a.phone):
        assert secret not in shown


def test_public_ledger_carries_the_balance_across_years(world: Any, c: Committee) -> None:
    _ledger_fixture(world, c)
    assert selectors.public_ledger(estate=c.estate, year=2025).closing_balance == 0
    ledger = selectors.public_ledger(estate=c.estate, year=2027)
    assert ledger.opening_balance == ledger.closing_balance == D("1100.00")
    assert all(not month.lines for month in ledger.months)


def test_public_ledger_shows_corrections_next_to_what_they_correct(c: Committee) -> None:
    wrong = c.income(300)
    services.fund_entry_correct(
        entry=wrong, actor=c.bookkeeper, amount=-270, reason="应为30元", now=NOW
    )
    march = selectors.public_ledger(estate=c.estate, year=2026).months[2]
    assert march.corrections == D("-270.00") and march.closing_balance == D("1030.00")
    assert march.lines[-1].corrects_id == wrong.pk and march.lines[-1].description == "应为30元"


def test_public_ledger_query_count_does_not_grow_with_entries(
    world: Any, c: Committee, django_assert_num_queries: Any
) -> None:
    _ledger_fixture(world, c)
    with django_assert_num_queries(3):
        small = selectors.public_ledger(estate=c.estate, year=2026)
    for i in range(5):
        c.paid(10, purpose=f"杂项{i}")
        c.income(20, household=world.household_b)
    with django_assert_num_queries(3):
        big = selectors.public_ledger(estate=c.estate, year=2026)
    assert sum(len(m.lines) for m in big.months) == sum(len(m.lines) for m in small.months) + 10


def test_expense_queue_query_count_is_constant(
    c: Committee, django_assert_max_num_queries: Any
) -> None:
    for _n in range(5):
        c.approved(10)
    fund = selectors.fund_for(user=c.keeper, estate=c.estate)
    with django_assert_max_num_queries(4):
        queue = selectors.expense_queue(user=c.keeper, fund=fund)
        assert [e.requested_by.name for e in queue.to_pay] == ["钱委员"] * 5
