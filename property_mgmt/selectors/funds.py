"""Reads of the self-managed funds (自管委资金): who may see a fund, what waits for whom, and
the public ledger.

Who sees a fund's inside (requests, quotes, receipts, the queue): the estate's committee
members (Membership role committee_member of that estate), the office of its community
(community staff and admins), the street supervisor of its street, superusers. Anyone
else gets Fund.DoesNotExist, so a page answers 404.

The public ledger is for everyone (it hangs on the noticeboard and the portal): every
entry with its approvals, month by month, with names shown as surname + ** (DESIGN §3:
public boards show surname + building only) and no phone numbers at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from community.models import Estate, Membership
from community.scoping import scope_for
from credit.selectors.boards import display_building, display_surname
from property_mgmt.models import ExpenseRequest, Fund, FundEntry

Role = Membership.Role
ZERO = Decimal("0.00")
INCOME_KINDS = frozenset({FundEntry.Kind.FEE, FundEntry.Kind.DONATION, FundEntry.Kind.OTHER_INCOME})
OPEN_STATUSES = (
    ExpenseRequest.Status.REQUESTED,
    ExpenseRequest.Status.APPROVED,
    ExpenseRequest.Status.PAID,
)


# --- Who may do what --------------------------------------------------------------------


def is_committee_member(user: Any, estate_id: int) -> bool:
    """Whether the user is an active committee member (自管委委员) of the estate."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return Membership.objects.filter(
        user_id=user.pk, role=Role.COMMITTEE_MEMBER, estate_id=estate_id, is_active=True
    ).exists()


def is_estate_office(user: Any, estate: Estate) -> bool:
    """Whether the user works in the office of the estate's community (or is a superuser)."""
    scope = scope_for(user)
    # scope_for fills community_ids from community staff and admin roles only.
    return scope.everything or estate.community_id in scope.community_ids


def may_see_fund(user: Any, estate: Estate) -> bool:
    """Committee members of the estate, its community's office, its street's supervisor."""
    scope = scope_for(user)
    if scope.everything or estate.community_id in scope.community_ids:
        return True
    if (
        scope.street_ids
        and Estate.objects.filter(
            pk=estate.pk, community__street_id__in=sorted(scope.street_ids)
        ).exists()
    ):
        return True
    return is_committee_member(user, estate.pk)


# --- The fund and its queue -------------------------------------------------------------


def fund_for(*, user: Any, estate: Estate) -> Fund:
    """The estate's fund if the user may see it; Fund.DoesNotExist otherwise (404)."""
    if not may_see_fund(user, estate):
        raise Fund.DoesNotExist
    return Fund.objects.select_related("estate", "keeper", "bookkeeper").get(estate=estate)


@dataclass(frozen=True)
class ExpenseQueue:
    """What waits for one user on a fund: requests to approve (others' requests, for a
    committee member), approved ones to pay (the keeper), paid ones to book (the
    bookkeeper); `open` is every unfinished request, for anyone who may see the fund."""

    to_decide: list[ExpenseRequest] = field(default_factory=list)
    to_pay: list[ExpenseRequest] = field(default_factory=list)
    to_book: list[ExpenseRequest] = field(default_factory=list)
    open: list[ExpenseRequest] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.to_decide) + len(self.to_pay) + len(self.to_book)


def expense_queue(*, user: Any, fund: Fund) -> ExpenseQueue:
    """The fund's open requests split by what this user is to do next (3 queries)."""
    estate = fund.estate
    if not may_see_fund(user, estate):
        raise Fund.DoesNotExist
    member = is_committee_member(user, estate.pk)
    requests = list(
        ExpenseRequest.objects.filter(fund_id=fund.pk, status__in=OPEN_STATUSES)
        .select_related("requested_by", "decided_by", "paid_by")
        .order_by("requested_at", "id")
    )
    Status = ExpenseRequest.Status
    return ExpenseQueue(
        to_decide=[
            r
            for r in requests
            if member and r.status == Status.REQUESTED and r.requested_by_id != user.pk
        ],
        to_pay=[r for r in requests if r.status == Status.APPROVED and fund.keeper_id == user.pk],
        to_book=[
            r
            for r in requests
            if r.status == Status.PAID and fund.bookkeeper_id == user.pk and r.paid_by_id != user.pk
        ],
        open=requests,
    )


# --- The public ledger ------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerLine:
    """One entry as the public sees it: names masked, no phones, no room numbers."""

    id: int
    occurred_on: dt.date
    kind: str
    kind_label: str
    description: str
    amount: Decimal
    balance: Decimal  # running balance in the order shown (date, then entry)
    payer: str  # '3号楼 张**', '张**', or ''
    requested_by: str = ""
    approved_by: str = ""
    paid_by: str = ""
    booked_by: str = ""
    status: str = ""  # of the expense request: paid or booked
    corrects_id: int | None = None
    corrects_on: dt.date | None = None


@dataclass(frozen=True)
class LedgerMonth:
    month: int
    income: Decimal
    expense: Decimal  # as a positive number
    corrections: Decimal  # signed
    opening_balance: Decimal
    closing_balance: Decimal
    lines: list[LedgerLine]

    @property
    def net(self) -> Decimal:
        return self.income - self.expense + self.corrections


@dataclass(frozen=True)
class PublicLedger:
    estate_name: str
    fund_name: str
    year: int
    keeper: str
    bookkeeper: str
    opening_balance: Decimal
    closing_balance: Decimal
    balance_now: Decimal
    months: list[LedgerMonth]  # all twelve, January first; a quiet month has no lines

    @property
    def income(self) -> Decimal:
        return sum((m.income for m in self.months), ZERO)

    @property
    def expense(self) -> Decimal:
        return sum((m.expense for m in self.months), ZERO)


def _payer(entry: FundEntry) -> str:
    """Building and surname only (DESIGN §3); a room number would single out a home."""
    parts = []
    if entry.household_id is not None:
        parts.append(display_building(entry.household.unit.building.number))  # type: ignore[union-attr]
    if entry.payer_name.strip():
        parts.append(display_surname(entry.payer_name))
    return " ".join(parts)


def _masked(user: Any) -> str:
    return display_surname(user.name) if user is not None else ""


def public_ledger(*, estate: Estate, year: int) -> PublicLedger:
    """The estate's fund for a year as the noticeboard shows it: every income and expense
    with who requested, approved, paid and booked it, month by month (3 queries)."""
    fund = Fund.objects.select_related("estate", "keeper", "bookkeeper").get(estate=estate)
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    before = FundEntry.objects.filter(fund_id=fund.pk, occurred_on__lt=start).aggregate(
        total=Sum("amount")
    )["total"]
    opening = before if before is not None else ZERO
    entries = (
        FundEntry.objects.filter(fund_id=fund.pk, occurred_on__gte=start, occurred_on__lt=end)
        .select_related(
            "household__unit__building",
            "expense__requested_by",
            "expense__decided_by",
            "expense__paid_by",
            "expense__booked_by",
            "corrects",
        )
        .order_by("occurred_on", "id")
    )
    by_month: dict[int, list[FundEntry]] = {m: [] for m in range(1, 13)}
    for entry in entries:
        by_month[entry.occurred_on.month].append(entry)
    months: list[LedgerMonth] = []
    balance = opening
    for month, rows in by_month.items():
        month_opening = balance
        income = expense = corrections = ZERO
        lines: list[LedgerLine] = []
        for entry in rows:
            balance += entry.amount
            if entry.kind in INCOME_KINDS:
                income += entry.amount
            elif entry.kind == FundEntry.Kind.EXPENSE:
                expense -= entry.amount
            else:
                corrections += entry.amount
            request = entry.expense
            lines.append(
                LedgerLine(
                    id=entry.pk,
                    occurred_on=entry.occurred_on,
                    kind=entry.kind,
                    kind_label=str(entry.get_kind_display()),
                    description=entry.description,
                    amount=entry.amount,
                    balance=balance,
                    payer=_payer(entry),
                    requested_by=_masked(request.requested_by) if request else "",
                    approved_by=_masked(request.decided_by) if request else "",
                    paid_by=_masked(request.paid_by) if request else "",
                    booked_by=_masked(request.booked_by) if request else "",
                    status=request.status if request else "",
                    corrects_id=entry.corrects_id,
                    corrects_on=entry.corrects.occurred_on if entry.corrects else None,
                )
            )
        months.append(
            LedgerMonth(
                month=month,
                income=income,
                expense=expense,
                corrections=corrections,
                opening_balance=month_opening,
                closing_balance=balance,
                lines=lines,
            )
        )
    return PublicLedger(
        estate_name=fund.estate.name,
        fund_name=fund.name,
        year=year,
        keeper=_masked(fund.keeper),
        bookkeeper=_masked(fund.bookkeeper),
        opening_balance=opening,
        closing_balance=balance,
        balance_now=fund.balance,
        months=months,
    )
