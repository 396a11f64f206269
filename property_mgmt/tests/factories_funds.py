"""Factories of the fund tests: an estate's committee and its fund, built through the
services (so a fund always has real officers and a balance that is the sum of entries)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import factory
from factory.django import DjangoModelFactory

from community.models import Estate, Membership
from community.tests.factories import MembershipFactory, UserFactory
from property_mgmt.models import ExpenseRequest, Fund, FundEntry
from property_mgmt.services import funds as services

NOW = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


class CommitteeMembershipFactory(DjangoModelFactory):
    """An active seat on an estate's self-management committee (自管委委员)."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Membership.Role.COMMITTEE_MEMBER


def committee_member(estate: Estate, name: str) -> Any:
    """A user with a seat on the estate's committee."""
    user = UserFactory(name=name)
    CommitteeMembershipFactory(user=user, estate=estate)
    return user


def office_staff(estate: Estate, name: str = "吴干事") -> Any:
    """Community staff of the estate's community (the office that opens funds)."""
    user = UserFactory(name=name, is_staff=True)
    MembershipFactory(
        user=user, role=Membership.Role.COMMUNITY_STAFF, community_id=estate.community_id
    )
    return user


@dataclass
class Committee:
    """An estate's fund and the people around it."""

    estate: Estate
    office: Any
    keeper: Any  # 管钱
    bookkeeper: Any  # 管账
    member_a: Any
    member_b: Any
    fund: Fund

    def income(self, amount: Any, *, household: Any = None, now: dt.datetime = NOW) -> FundEntry:
        """Money in, recorded by the keeper (a donation unless a household is given)."""
        return services.fund_income_record(
            fund=self.fund,
            actor=self.keeper,
            kind=FundEntry.Kind.FEE if household is not None else FundEntry.Kind.DONATION,
            amount=amount,
            occurred_on=now.date(),
            household=household,
            payer_name="",
            description="",
            now=now,
        )

    def approved(self, amount: Any, *, purpose: str = "清运垃圾", now: dt.datetime = NOW) -> Any:
        """An expense requested by member_a and approved by member_b."""
        expense = services.expense_request(
            fund=self.fund, actor=self.member_a, purpose=purpose, amount=amount, now=now
        )
        return services.expense_decide(
            expense=expense, actor=self.member_b, approve=True, note="", now=now
        )

    def paid(self, amount: Any, *, purpose: str = "清运垃圾", now: dt.datetime = NOW) -> Any:
        return services.expense_pay(
            expense=self.approved(amount, purpose=purpose, now=now), actor=self.keeper, now=now
        )

    def reload(self) -> Fund:
        self.fund.refresh_from_db()
        return self.fund


def committee_with_fund(
    estate: Estate, *, balance: Any = 0, annual_fee: Any = Decimal("300.00")
) -> Committee:
    """The office opens a fund run by 陈管钱 (keeper) and 赵管账 (bookkeeper), with two more
    members 钱委员 and 孙委员; `balance` arrives as one donation."""
    office = office_staff(estate)
    keeper = committee_member(estate, "陈管钱")
    bookkeeper = committee_member(estate, "赵管账")
    fund = services.fund_create(
        actor=office,
        estate=estate,
        name=f"{estate.name}自管委资金",
        keeper=keeper,
        bookkeeper=bookkeeper,
        annual_fee=annual_fee,
        now=NOW,
    )
    committee = Committee(
        estate=estate,
        office=office,
        keeper=keeper,
        bookkeeper=bookkeeper,
        member_a=committee_member(estate, "钱委员"),
        member_b=committee_member(estate, "孙委员"),
        fund=fund,
    )
    if Decimal(str(balance)):
        committee.income(balance)
    return committee


__all__ = [
    "NOW",
    "Committee",
    "CommitteeMembershipFactory",
    "ExpenseRequest",
    "committee_member",
    "committee_with_fund",
    "office_staff",
]
