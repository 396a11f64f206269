"""Reads the fee and contract pages need beyond `selectors.fees`: the estates a user keeps
the fees of, the communities whose contracts they register, the choices of the forms.

The fee pages are for the people who bill and take money: the community office (their
community's estates) and property staff (the estates their company serves, as
`community.scoping` decides). Grid workers, street supervisors and residents may see
bills elsewhere but not work on them here. Out of scope is DoesNotExist, so a page
answers 404 and a guessed number tells nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from community.models import Community, Estate, Household, Membership, Organization
from community.scoping import scope_for
from grievances.models import Category
from property_mgmt.models import FeeBill, ServiceContract
from property_mgmt.selectors.fees import bills_visible

Role = Membership.Role
_MAX_PK = 2**63 - 1


def _pk(value: Any) -> int:
    if not isinstance(value, int) or not 0 < value <= _MAX_PK:
        raise ValueError(value)
    return value


def _fees_estate_q(user: Any) -> Q | None:
    """The estates whose fees `user` works on, as a filter; None: none."""
    scope = scope_for(user)
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    matched = False
    if scope.community_ids:
        q |= Q(community_id__in=sorted(scope.community_ids))
        matched = True
    if scope.estate_ids:
        q |= Q(pk__in=sorted(scope.estate_ids))
        matched = True
    return q if matched else None


def fees_estates(*, user: Any) -> list[Estate]:
    """The estates whose fees the user keeps (office: their community's; property staff:
    their company's), by community and name."""
    q = _fees_estate_q(user)
    if q is None:
        return []
    return list(
        Estate.objects.filter(q)
        .select_related("community")
        .order_by("community__name", "name", "pk")
    )


def fees_estate_for(*, user: Any, pk: int) -> Estate:
    """One estate whose fees the user keeps; Estate.DoesNotExist otherwise."""
    q = _fees_estate_q(user)
    if q is None:
        raise Estate.DoesNotExist
    try:
        return Estate.objects.filter(q).select_related("community").get(pk=_pk(pk))
    except ValueError:
        raise Estate.DoesNotExist from None


def fees_bill_for(*, user: Any, pk: int) -> FeeBill:
    """A bill of an estate whose fees the user keeps, with what its page shows."""
    q = _fees_estate_q(user)
    if q is None:
        raise FeeBill.DoesNotExist
    estates = Estate.objects.filter(q).values("pk")
    try:
        return (
            bills_visible(user)
            .filter(estate_id__in=estates)
            .select_related("contract", "estate__community", "building", "household__unit")
            .get(pk=_pk(pk))
        )
    except ValueError:
        raise FeeBill.DoesNotExist from None


def household_labels(*, estate: Estate, ids: list[int]) -> list[Household]:
    """The households of an estate among `ids` (e.g. skipped for lack of a floor area),
    by building, unit and room."""
    return list(
        Household.objects.filter(pk__in=sorted(ids), unit__building__estate_id=estate.pk)
        .select_related("unit__building")
        .order_by("unit__building__number", "unit__number", "room", "pk")
    )


def office_communities(*, user: Any) -> list[Community]:
    """The communities where the user is office staff or admin (superusers: all)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return list(Community.objects.order_by("name", "pk"))
    return list(
        Community.objects.filter(
            pk__in=Membership.objects.filter(
                user_id=user.pk,
                is_active=True,
                role__in=[Role.COMMUNITY_ADMIN, Role.COMMUNITY_STAFF],
            ).values("community_id")
        ).order_by("name", "pk")
    )


def community_contracts(*, community: Community) -> QuerySet[ServiceContract]:
    """The contracts of a community's estates, newest first, with their scope."""
    return (
        ServiceContract.objects.filter(estate__community_id=community.pk)
        .select_related("provider", "estate")
        .prefetch_related("scope_categories")
        .order_by("-starts_on", "estate__name", "-pk")
    )


def contract_providers(*, community: Community) -> QuerySet[Organization]:
    """The property companies a community may contract with: its own, its street's, those
    already serving its estates and those bound to no area."""
    return (
        Organization.objects.filter(kind=Organization.Kind.PROPERTY_COMPANY)
        .filter(
            Q(community_id=community.pk)
            | Q(street_id=community.street_id, community__isnull=True)
            | Q(community__isnull=True, street__isnull=True)
            | Q(estates_served__community_id=community.pk)
            | Q(service_contracts__estate__community_id=community.pk)
        )
        .distinct()
        .order_by("name", "pk")
    )


def community_estates(*, community: Community) -> QuerySet[Estate]:
    """A community's estates, by name."""
    return Estate.objects.filter(community_id=community.pk).order_by("name", "pk")


def scope_category_choices() -> QuerySet[Category]:
    """The active grievance categories a contract may take into its scope."""
    return Category.objects.filter(is_active=True).order_by("name", "pk")
