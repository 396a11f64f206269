"""Reads the survey, scorecard and black-list pages need beyond property_mgmt.selectors.
surveys and .scorecards: which communities a user runs or belongs to, one survey, household
or entry in scope, the choices of the forms, the published scorecards.

Out of scope is DoesNotExist, so a page answers 404 and a guessed number tells nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from community.models import Building, Community, Estate, Household, Membership, Organization
from community.scoping import scope_filter, scope_for
from property_mgmt.models import BlacklistEntry, Scorecard, ServiceContract, Survey, SurveyResponse
from property_mgmt.selectors.surveys import STAFF_ROLES, surveys_visible

Role = Membership.Role
_MAX_PK = 2**63 - 1


def _pk(value: Any) -> int:
    if not isinstance(value, int) or not 0 < value <= _MAX_PK:
        raise ValueError(value)
    return value


def office_communities(*, user: Any) -> list[Community]:
    """The communities whose office the user works in (community staff/admin; superusers
    every community), by name."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    qs = Community.objects.all()
    if not user.is_superuser:
        qs = qs.filter(
            pk__in=Membership.objects.filter(
                user_id=user.pk, is_active=True, role__in=STAFF_ROLES
            ).values("community_id")
        )
    return list(qs.order_by("name", "pk"))


def member_communities(*, user: Any) -> list[Community]:
    """The communities a user lives in or serves (resident, grid worker, office, street,
    property staff of one of its estates, committee member), by name: who may read the
    public black list."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    qs = scope_filter(Community.objects.all(), user)
    committee = Membership.objects.filter(
        user_id=user.pk, is_active=True, role=Role.COMMITTEE_MEMBER
    ).values("estate__community_id")
    return list(
        Community.objects.filter(Q(pk__in=qs.values("pk")) | Q(pk__in=committee))
        .distinct()
        .order_by("name", "pk")
    )


def pick_community(communities: list[Community], raw: str | None) -> Community | None:
    """The community chosen by ?community=<id> among the user's, else the first one."""
    if not communities:
        return None
    if raw and raw.isdigit():
        for community in communities:
            if str(community.pk) == raw:
                return community
    return communities[0]


# --- surveys ------------------------------------------------------------------------


def survey_list(*, user: Any, community: Community) -> QuerySet[Survey]:
    """The community's surveys the user may read, newest period first, with answer counts."""
    return (
        surveys_visible(user=user)
        .filter(community=community)
        .select_related("provider")
        .annotate(answer_count=Count("responses"))
        .order_by("-period_start", "-pk")
    )


def survey_for(*, user: Any, pk: int) -> Survey:
    """A survey whose results the user may read; Survey.DoesNotExist otherwise."""
    try:
        return surveys_visible(user=user).select_related("provider", "community").get(pk=_pk(pk))
    except ValueError:
        raise Survey.DoesNotExist from None


def survey_estate_names(*, survey: Survey) -> list[str]:
    """The names of the survey's estates, by name."""
    return list(survey.estates.order_by("name").values_list("name", flat=True))


def community_providers(*, community: Community) -> list[Organization]:
    """Property companies serving an estate of the community (registry or any contract)."""
    contracts = ServiceContract.objects.filter(estate__community=community).values("provider_id")
    registry = Estate.objects.filter(community=community).values("property_company_id")
    return list(
        Organization.objects.filter(
            Q(pk__in=contracts) | Q(pk__in=registry),
            kind=Organization.Kind.PROPERTY_COMPANY,
        ).order_by("name", "pk")
    )


def community_estates(*, community: Community) -> list[Estate]:
    """The estates of the community, by name."""
    return list(Estate.objects.filter(community=community).order_by("name", "pk"))


def has_household(*, user: Any) -> bool:
    """True for a resident registered in some household (who may use the portal page)."""
    return bool(scope_for(user).household_ids)


def portal_target(*, user: Any, survey_id: int, household_id: int) -> tuple[Survey, Household]:
    """A survey and one of the user's own households to answer it for; DoesNotExist when
    the household is not the user's or the survey does not cover its estate."""
    try:
        survey_id, household_id = _pk(survey_id), _pk(household_id)
    except ValueError:
        raise Survey.DoesNotExist from None
    if household_id not in scope_for(user).household_ids:
        raise Survey.DoesNotExist
    household = Household.objects.select_related("unit__building").get(pk=household_id)
    survey = Survey.objects.filter(pk=survey_id, estates=household.unit.building.estate_id).first()
    if survey is None:
        raise Survey.DoesNotExist
    return survey, household


def _grid_buildings_q(user: Any) -> Q | None:
    scope = scope_for(user)
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    if scope.grid_ids:
        q |= Q(grid_id__in=sorted(scope.grid_ids))
    if scope.community_ids and scope.roles & set(STAFF_ROLES):
        q |= Q(estate__community_id__in=sorted(scope.community_ids))
    if not (scope.grid_ids or scope.community_ids):
        return None
    return q


def grid_buildings(*, user: Any) -> list[Building]:
    """The buildings whose households the user may answer for: their grids' (grid
    worker) or their community's (office), by estate and number."""
    q = _grid_buildings_q(user)
    if q is None:
        return []
    return list(
        Building.objects.filter(q).select_related("estate").order_by("estate__name", "number", "pk")
    )


def grid_building_for(*, user: Any, building_id: int) -> Building:
    """One building of grid_buildings; Building.DoesNotExist otherwise."""
    q = _grid_buildings_q(user)
    try:
        pk = _pk(building_id)
    except ValueError:
        raise Building.DoesNotExist from None
    if q is None:
        raise Building.DoesNotExist
    return Building.objects.filter(q).select_related("estate").get(pk=pk)


def building_households(*, building: Building) -> list[Household]:
    """The households of a building, by unit and room (room numbers only: no names)."""
    return list(
        Household.objects.filter(unit__building=building)
        .select_related("unit")
        .order_by("unit__number", "room", "pk")
    )


def grid_household_for(*, user: Any, household_id: int) -> Household:
    """A household of one of grid_buildings; Household.DoesNotExist otherwise."""
    q = _grid_buildings_q(user)
    try:
        pk = _pk(household_id)
    except ValueError:
        raise Household.DoesNotExist from None
    if q is None:
        raise Household.DoesNotExist
    return Household.objects.select_related("unit__building__estate").get(
        pk=pk, unit__building__in=Building.objects.filter(q)
    )


@dataclass(frozen=True)
class HouseholdSurvey:
    """An open survey covering a household, and whether the household answered it."""

    survey: Survey
    answered: bool
    channel: str


def household_open_surveys(*, household: Household) -> list[HouseholdSurvey]:
    """The open surveys covering the household's estate (for its grid worker), unanswered
    first."""
    surveys = list(
        Survey.objects.filter(status=Survey.Status.OPEN, estates=household.unit.building.estate_id)
        .select_related("provider")
        .order_by("period_end", "pk")
    )
    channels = dict(
        SurveyResponse.objects.filter(
            survey__in=[s.pk for s in surveys], household=household
        ).values_list("survey_id", "channel")
    )
    rows = [
        HouseholdSurvey(survey=s, answered=s.pk in channels, channel=channels.get(s.pk, ""))
        for s in surveys
    ]
    rows.sort(key=lambda r: r.answered)
    return rows


def open_survey_for_household(*, household: Household, survey_id: int) -> Survey:
    """An open survey covering the household; Survey.DoesNotExist otherwise."""
    try:
        pk = _pk(survey_id)
    except ValueError:
        raise Survey.DoesNotExist from None
    return Survey.objects.get(pk=pk, estates=household.unit.building.estate_id)


# --- scorecards and the black list --------------------------------------------------


def provider_in(*, community: Community, provider_id: int) -> Organization:
    """A property company serving the community; Organization.DoesNotExist otherwise."""
    try:
        pk = _pk(provider_id)
    except ValueError:
        raise Organization.DoesNotExist from None
    for provider in community_providers(community=community):
        if provider.pk == pk:
            return provider
    raise Organization.DoesNotExist


def published_scorecards(*, community: Community) -> QuerySet[Scorecard]:
    """The community's published scorecards, newest period first."""
    return (
        Scorecard.objects.filter(community=community)
        .select_related("provider", "published_by")
        .order_by("-period_start", "provider__name", "pk")
    )


def published_provider_ids(*, community: Community, period: tuple[Any, Any]) -> set[int]:
    """The providers whose scorecard for exactly this period is published."""
    return set(
        Scorecard.objects.filter(
            community=community, period_start=period[0], period_end=period[1]
        ).values_list("provider_id", flat=True)
    )


def blacklist_entry_for(*, user: Any, pk: int) -> BlacklistEntry:
    """An entry the user may act on: of a community whose office they work in, or of
    their own company (property staff); BlacklistEntry.DoesNotExist otherwise."""
    try:
        pk = _pk(pk)
    except ValueError:
        raise BlacklistEntry.DoesNotExist from None
    if user is None or not user.is_authenticated or not user.is_active:
        raise BlacklistEntry.DoesNotExist
    qs = BlacklistEntry.objects.select_related("provider", "community")
    if not user.is_superuser:
        qs = qs.filter(
            Q(community__in=[c.pk for c in office_communities(user=user)])
            | Q(
                provider_id__in=Membership.objects.filter(
                    user_id=user.pk, is_active=True, role=Role.PROPERTY_STAFF
                ).values("organization_id")
            )
        )
    return qs.get(pk=pk)


def is_any_property_staff(*, user: Any) -> bool:
    """True for active staff of some property company."""
    return Role.PROPERTY_STAFF in scope_for(user).roles


def company_blacklist_entries(*, user: Any) -> list[BlacklistEntry]:
    """The entries of the user's own company (property staff), in every community,
    newest first; nothing for anyone else."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return list(
        BlacklistEntry.objects.filter(
            provider_id__in=Membership.objects.filter(
                user_id=user.pk, is_active=True, role=Role.PROPERTY_STAFF
            ).values("organization_id")
        )
        .select_related("provider", "community")
        .order_by("-proposed_at", "-pk")
    )
