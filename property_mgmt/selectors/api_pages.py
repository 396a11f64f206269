"""Reads the /api/v1/property/ endpoints need besides the area selectors: the object an
endpoint acts on, looked up inside the caller's scope (`community.scoping`), so that
anything outside it is DoesNotExist (404, exactly like an unknown id)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import BooleanField, DecimalField, ExpressionWrapper, F, Q, QuerySet

from community.models import Community, Estate, Household, Membership
from community.scoping import scope_filter, scope_for
from property_mgmt.models import BlacklistEntry, FeeBill, Scorecard, ServiceContract, Survey
from property_mgmt.selectors.fees import bills_visible
from property_mgmt.selectors.surveys import surveys_visible

Role = Membership.Role
_MAX_PK = 2**63 - 1


def _pk(value: Any) -> int:
    if not isinstance(value, int) or not 0 < value <= _MAX_PK:
        raise ValueError(value)
    return value


def _property_orgs(user: Any) -> QuerySet[Membership, Any]:
    return Membership.objects.filter(
        user_id=user.pk, is_active=True, role=Role.PROPERTY_STAFF
    ).values("organization_id")


def staff_estate_for(*, user: Any, pk: int) -> Estate:
    """An estate the user works on (office, street, grid or property staff), not merely
    lives in; Estate.DoesNotExist otherwise."""
    scope = scope_for(user)
    estates = Estate.objects.select_related("community")
    if not scope.everything:
        q = Q(pk__in=[])
        if scope.street_ids:
            q |= Q(community__street_id__in=sorted(scope.street_ids))
        if scope.community_ids:
            q |= Q(community_id__in=sorted(scope.community_ids))
        if scope.estate_ids:
            q |= Q(pk__in=sorted(scope.estate_ids))
        if scope.grid_ids:
            q |= Q(buildings__grid_id__in=sorted(scope.grid_ids))
        estates = estates.filter(q).distinct()
    try:
        return estates.get(pk=_pk(pk))
    except ValueError:
        raise Estate.DoesNotExist from None


def community_for(*, user: Any, pk: int) -> Community:
    """A community the user lives in, works in or serves; Community.DoesNotExist else."""
    try:
        pk = _pk(pk)
    except ValueError:
        raise Community.DoesNotExist from None
    community = scope_filter(Community.objects.all(), user).filter(pk=pk).first()
    if community is None and user.is_authenticated:
        # Property staff serve estates, and a community holds those estates.
        community = Community.objects.filter(
            pk=pk, estates__property_company_id__in=_property_orgs(user)
        ).first()
    if community is None:
        raise Community.DoesNotExist
    return community


def contracts_visible(*, user: Any) -> QuerySet[ServiceContract]:
    """Contracts of the estates the user works on or of the user's own company, newest first."""
    scope = scope_for(user)
    contracts = ServiceContract.objects.select_related("provider", "estate")
    if not scope.everything:
        estates = scope_filter(Estate.objects.all(), user)
        if scope.household_ids and not (
            scope.street_ids or scope.community_ids or scope.estate_ids or scope.grid_ids
        ):
            estates = Estate.objects.none()  # a resident has no business with contracts
        q = Q(estate_id__in=estates.values("id"))
        if Role.PROPERTY_STAFF in scope.roles:
            q |= Q(provider_id__in=_property_orgs(user))
        contracts = contracts.filter(q)
    return contracts.order_by("-starts_on", "-id")


def bill_for(*, user: Any, pk: int) -> FeeBill:
    """One bill the user may see, with its contract and estate; FeeBill.DoesNotExist else."""
    try:
        return (
            bills_visible(user)
            .select_related("contract", "estate__community", "building", "household__unit")
            .get(pk=_pk(pk))
        )
    except ValueError:
        raise FeeBill.DoesNotExist from None


def _with_outstanding(bills: QuerySet[FeeBill]) -> QuerySet[FeeBill]:
    return bills.annotate(
        outstanding=ExpressionWrapper(
            F("amount") - F("paid_amount"),
            output_field=DecimalField(max_digits=10, decimal_places=2),
        ),
        payable=ExpressionWrapper(Q(payable_from__isnull=False), output_field=BooleanField()),
    ).select_related("building", "household__unit")


def estate_bills(*, user: Any, estate: Estate, period: dt.date) -> QuerySet[FeeBill]:
    """The bills of an estate for a month the user may see, by building and household."""
    bills = bills_visible(user).filter(estate_id=estate.pk, period=period)
    return _with_outstanding(bills).order_by("building_id", "household_id", "id")


def my_bills(*, user: Any) -> QuerySet[FeeBill]:
    """The bills of the user's own household(s), newest month first ("my bills")."""
    household_ids = sorted(scope_for(user).household_ids)
    bills = bills_visible(user).filter(household_id__in=household_ids)
    return _with_outstanding(bills).order_by("-period", "-id")


def household_for(*, user: Any, pk: int) -> Household:
    """A household the user may see (their own, their grid's, their community's)."""
    try:
        return scope_filter(Household.objects.all(), user).get(pk=_pk(pk))
    except ValueError:
        raise Household.DoesNotExist from None


def my_household_ids(*, user: Any) -> list[int]:
    """The households the user lives in."""
    return sorted(scope_for(user).household_ids)


def estate_household(*, estate: Estate, pk: int) -> Household:
    """A household of the estate; Household.DoesNotExist otherwise."""
    try:
        return Household.objects.get(pk=_pk(pk), unit__building__estate_id=estate.pk)
    except ValueError:
        raise Household.DoesNotExist from None


def survey_for(*, user: Any, pk: int) -> Survey:
    """A survey of a community the user lives or works in, or of their own company."""
    try:
        pk = _pk(pk)
    except ValueError:
        raise Survey.DoesNotExist from None
    communities = scope_filter(Community.objects.all(), user).values("id")
    survey = (
        Survey.objects.filter(
            Q(community_id__in=communities) | Q(pk__in=surveys_visible(user=user))
        )
        .filter(pk=pk)
        .first()
    )
    if survey is None:
        raise Survey.DoesNotExist
    return survey


def survey_results_for(*, user: Any, pk: int) -> Survey:
    """A survey whose results the user may read (staff, street, the rated company)."""
    try:
        return surveys_visible(user=user).get(pk=_pk(pk))
    except ValueError:
        raise Survey.DoesNotExist from None


def scorecards_published(*, community: Community) -> QuerySet[Scorecard]:
    """The community's published scorecards (public), newest period first."""
    return (
        Scorecard.objects.filter(community_id=community.pk)
        .select_related("provider")
        .order_by("-period_end", "provider__name", "-id")
    )


def blacklist_entry_for(*, user: Any, pk: int) -> BlacklistEntry:
    """A black-list entry of a community the user belongs to, or of their own company."""
    try:
        pk = _pk(pk)
    except ValueError:
        raise BlacklistEntry.DoesNotExist from None
    if not user.is_authenticated:
        raise BlacklistEntry.DoesNotExist
    communities = scope_filter(Community.objects.all(), user).values("id")
    entry = (
        BlacklistEntry.objects.filter(
            Q(community_id__in=communities) | Q(provider_id__in=_property_orgs(user)), pk=pk
        )
        .select_related("provider")
        .first()
    )
    if entry is None:
        raise BlacklistEntry.DoesNotExist
    return entry
