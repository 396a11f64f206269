"""Reads the fund pages need beyond property_mgmt.selectors.funds: which funds a user may
open, one expense or entry in scope, the recent entries, the choices of the forms.

Scope is always `may_see_fund` (committee of the estate, its community's office, its
street's supervisor) except for the public ledger, which anyone who lives in or serves
the estate's community may read (`ledger_estate_for`). Out of scope is DoesNotExist, so a
page answers 404 and a guessed number tells nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from community.models import Building, Community, Estate, Household, Membership
from community.scoping import scope_filter, scope_for
from property_mgmt.models import ExpenseAttachment, ExpenseRequest, Fund, FundEntry
from property_mgmt.selectors.funds import is_estate_office, may_see_fund

Role = Membership.Role
_MAX_PK = 2**63 - 1


def _pk(value: Any) -> int:
    if not isinstance(value, int) or not 0 < value <= _MAX_PK:
        raise ValueError(value)
    return value


def fund_estate_for(*, user: Any, estate_id: int) -> Estate:
    """The estate of a fund page if the user may see its fund; Estate.DoesNotExist else."""
    try:
        estate = Estate.objects.select_related("community").get(pk=_pk(estate_id))
    except ValueError:
        raise Estate.DoesNotExist from None
    if not may_see_fund(user, estate):
        raise Estate.DoesNotExist
    return estate


def office_estate_for(*, user: Any, estate_id: int) -> tuple[Estate, Fund | None]:
    """An estate of the user's office (community staff/admin) and its fund, if any."""
    try:
        estate = Estate.objects.select_related("community").get(pk=_pk(estate_id))
    except ValueError:
        raise Estate.DoesNotExist from None
    if not is_estate_office(user, estate):
        raise Estate.DoesNotExist
    fund = Fund.objects.select_related("keeper", "bookkeeper").filter(estate_id=estate.pk).first()
    return estate, fund


def ledger_estate_for(*, user: Any, estate_id: int) -> Estate:
    """The estate of a public ledger, for anyone who lives in or serves its community
    (residents, grid workers, office, street, property staff of one of its estates, its
    committee members); Estate.DoesNotExist otherwise, or when it has no fund."""
    try:
        estate = (
            Estate.objects.select_related("community")
            .filter(fund__isnull=False)
            .get(pk=_pk(estate_id))
        )
    except ValueError:
        raise Estate.DoesNotExist from None
    if scope_filter(Community.objects.all(), user).filter(pk=estate.community_id).exists():
        return estate
    if (
        user.is_authenticated
        and Membership.objects.filter(
            user_id=user.pk,
            role=Role.COMMITTEE_MEMBER,
            is_active=True,
            estate__community_id=estate.community_id,
        ).exists()
    ):
        return estate
    raise Estate.DoesNotExist


def funds_visible(*, user: Any) -> list[Fund]:
    """The funds the user may open: their estates' committees, their office, their street."""
    scope = scope_for(user)
    funds = Fund.objects.select_related("estate__community", "keeper", "bookkeeper")
    if not scope.everything:
        q = Q(estate__community_id__in=sorted(scope.community_ids)) | Q(
            estate__community__street_id__in=sorted(scope.street_ids)
        )
        committee = Membership.objects.filter(
            user_id=user.pk, role=Role.COMMITTEE_MEMBER, is_active=True
        ).values("estate_id")
        funds = funds.filter(q | Q(estate_id__in=committee))
    return list(funds.order_by("estate__community__name", "estate__name", "id")[:200])


def ledgers_visible(*, user: Any) -> list[Fund]:
    """The funds whose public ledger the user may read (`ledger_estate_for`), for a menu."""
    funds = Fund.objects.select_related("estate__community")
    if not scope_for(user).everything:
        communities = scope_filter(Community.objects.all(), user).values("id")
        committee = Membership.objects.filter(
            user_id=user.pk, role=Role.COMMITTEE_MEMBER, is_active=True
        ).values("estate__community_id")
        funds = funds.filter(
            Q(estate__community_id__in=communities) | Q(estate__community_id__in=committee)
        )
    return list(funds.order_by("estate__community__name", "estate__name", "id")[:200])


def office_estates(*, user: Any) -> list[Estate]:
    """The estates of the user's office (community staff/admin) with their fund, if any."""
    scope = scope_for(user)
    estates = Estate.objects.select_related("community", "fund__keeper", "fund__bookkeeper")
    if not scope.everything:
        estates = estates.filter(community_id__in=sorted(scope.community_ids))
    return list(estates.order_by("community__name", "name", "id")[:500])


def committee_members(*, estate: Estate) -> list[Any]:
    """The active committee members of the estate, the people who may be officers."""
    rows = (
        Membership.objects.filter(estate_id=estate.pk, role=Role.COMMITTEE_MEMBER, is_active=True)
        .select_related("user")
        .order_by("user__name", "user_id")
    )
    seen: dict[int, Any] = {}
    for row in rows:
        seen.setdefault(row.user_id, row.user)
    return list(seen.values())


def fund_entries(*, user: Any, fund: Fund) -> QuerySet[FundEntry]:
    """The fund's entries, newest first, for someone who may see the fund (to page)."""
    if not may_see_fund(user, fund.estate):
        raise Fund.DoesNotExist
    return (
        FundEntry.objects.filter(fund_id=fund.pk)
        .select_related("household__unit__building", "recorded_by", "correction")
        .order_by("-occurred_on", "-id")
    )


def expense_for(*, user: Any, pk: int) -> ExpenseRequest:
    """One expense request with its fund and people, if the user may see the fund."""
    try:
        expense = ExpenseRequest.objects.select_related(
            "fund__estate",
            "fund__keeper",
            "fund__bookkeeper",
            "requested_by",
            "decided_by",
            "paid_by",
            "booked_by",
        ).get(pk=_pk(pk))
    except ValueError:
        raise ExpenseRequest.DoesNotExist from None
    if not may_see_fund(user, expense.fund.estate):
        raise ExpenseRequest.DoesNotExist
    return expense


def expense_attachments(*, expense: ExpenseRequest) -> list[ExpenseAttachment]:
    """The quotes and receipts of an expense already read through `expense_for`."""
    return list(ExpenseAttachment.objects.filter(expense_id=expense.pk).order_by("kind", "id"))


def entry_for(*, user: Any, pk: int) -> FundEntry:
    """One entry with its fund, if the user may see the fund."""
    try:
        entry = FundEntry.objects.select_related(
            "fund__estate", "fund__keeper", "fund__bookkeeper", "correction"
        ).get(pk=_pk(pk))
    except ValueError:
        raise FundEntry.DoesNotExist from None
    if not may_see_fund(user, entry.fund.estate):
        raise FundEntry.DoesNotExist
    return entry


def estate_buildings(*, estate: Estate) -> list[Building]:
    """The buildings of the estate, for the building → room picker."""
    return list(Building.objects.filter(estate_id=estate.pk).order_by("number", "id"))


def building_households(*, estate: Estate, building_id: int) -> list[Household]:
    """The households (rooms) of one building of the estate, for the picker."""
    return list(
        Household.objects.filter(unit__building_id=building_id, unit__building__estate_id=estate.pk)
        .select_related("unit")
        .order_by("unit__number", "room", "id")
    )
