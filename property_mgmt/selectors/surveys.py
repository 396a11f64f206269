"""Reads of the satisfaction surveys: results, the trend over rounds, the portal's list.

Who sees what (through community.scoping): community staff and admins the surveys of
their community, a street supervisor those of their street, property staff the surveys
of their own company; a resident only the open surveys of their household (never the
results); anyone else nothing. Each read costs a fixed number of queries, however many
households, buildings or rounds there are: the counts are grouped aggregates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from community.models import Community, Household, Membership, Organization
from community.scoping import is_community_office, scope_for
from property_mgmt.models import ServiceContract, Survey, SurveyResponse
from property_mgmt.models.surveys import AREAS

Role = Membership.Role
STAFF_ROLES = (Role.COMMUNITY_STAFF, Role.COMMUNITY_ADMIN)
ANSWERED_STATUSES = (Survey.Status.OPEN, Survey.Status.CLOSED)
TWO_PLACES = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")


def is_community_staff(user: Any, community_id: int) -> bool:
    """True for a superuser or active community staff/admin of the community."""
    return is_community_office(user, community_id)


def is_property_staff(user: Any, provider_id: int) -> bool:
    """True for active property staff of the provider (not a superuser: they are not the
    company and may not speak for it)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return Membership.objects.filter(
        user=user, is_active=True, role=Role.PROPERTY_STAFF, organization_id=provider_id
    ).exists()


def estates_served_q(provider_id: int, start: dt.date, end: dt.date) -> Q:
    """Estates a provider serves during [start, end]: it is the estate's property company
    in the registry, or it holds a service contract overlapping the period (contracts
    end on `ends_on`, exclusive)."""
    contracts = ServiceContract.objects.filter(
        provider_id=provider_id, starts_on__lte=end, ends_on__gt=start
    ).values("estate_id")
    return Q(property_company_id=provider_id) | Q(pk__in=contracts)


def average(total: int | None, count: int | None) -> Decimal | None:
    """total / count to two places, or None when nothing was counted."""
    if not count:
        return None
    return (Decimal(total or 0) / Decimal(count)).quantize(TWO_PLACES, ROUND_HALF_UP)


def rate(part: int | Decimal | None, whole: int | Decimal | None) -> Decimal | None:
    """part / whole as a fraction to four places, or None when the whole is nothing."""
    if not whole:
        return None
    return (Decimal(part or 0) / Decimal(whole)).quantize(FOUR_PLACES, ROUND_HALF_UP)


def surveys_visible(*, user: Any) -> QuerySet[Survey]:
    """The surveys whose results `user` may read (not residents: they answer)."""
    scope = scope_for(user)
    if scope.everything:
        return Survey.objects.all()
    q = Q(pk__in=[])
    if scope.community_ids:
        q |= Q(community_id__in=sorted(scope.community_ids))
    if scope.street_ids:
        q |= Q(community__street_id__in=sorted(scope.street_ids))
    if Role.PROPERTY_STAFF in scope.roles:
        q |= Q(
            provider_id__in=Membership.objects.filter(
                user_id=user.pk, is_active=True, role=Role.PROPERTY_STAFF
            ).values("organization_id")
        )
    return Survey.objects.filter(q)


# --- results ------------------------------------------------------------------------


@dataclass
class RatingSums:
    """Counts and sums of the ratings of a group of answers; averages derive from them."""

    answers: int = 0
    overall_total: int = 0
    area_totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AREAS, 0))
    area_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AREAS, 0))

    def add(self, other: RatingSums) -> None:
        self.answers += other.answers
        self.overall_total += other.overall_total
        for area in AREAS:
            self.area_totals[area] += other.area_totals[area]
            self.area_counts[area] += other.area_counts[area]


@dataclass
class ResultRow:
    """One line of the results: the whole survey, an estate or a building."""

    key: int | None
    label: str
    households: int
    sums: RatingSums

    @property
    def answers(self) -> int:
        return self.sums.answers

    @property
    def overall(self) -> Decimal | None:
        return average(self.sums.overall_total, self.sums.answers)

    @property
    def areas(self) -> dict[str, Decimal | None]:
        return {
            area: average(self.sums.area_totals[area], self.sums.area_counts[area])
            for area in AREAS
        }

    @property
    def response_rate(self) -> Decimal | None:
        return rate(self.sums.answers, self.households)


@dataclass
class SurveyResults:
    survey: Survey
    total: ResultRow
    by_estate: list[ResultRow]
    by_building: list[ResultRow]


def survey_results(*, user: Any, survey: Survey) -> SurveyResults:
    """A survey's averages (overall and per area), answers and response rate (answered
    households ÷ households of its estates), in total, per estate and per building."""
    if not surveys_visible(user=user).filter(pk=survey.pk).exists():
        raise Survey.DoesNotExist
    estates = survey.estates.all()
    households = (
        Household.objects.filter(unit__building__estate__in=estates)
        .values(
            "unit__building_id",
            "unit__building__number",
            "unit__building__estate_id",
            "unit__building__estate__name",
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    answers = (
        SurveyResponse.objects.filter(survey=survey)
        .values("building_id")
        .annotate(
            answers=Count("pk"),
            overall_total=Sum("overall"),
            **{f"{area}_total": Sum(area) for area in AREAS},
            **{f"{area}_count": Count(area) for area in AREAS},
        )
        .order_by()
    )
    sums_by_building: dict[int, RatingSums] = {}
    # Plain dicts: the area columns are named at run time (f"{area}_total").
    answer_rows: list[dict[str, Any]] = [dict(row) for row in answers]
    for answer in answer_rows:
        sums_by_building[answer["building_id"]] = RatingSums(
            answers=answer["answers"],
            overall_total=answer["overall_total"] or 0,
            area_totals={area: answer[f"{area}_total"] or 0 for area in AREAS},
            area_counts={area: answer[f"{area}_count"] for area in AREAS},
        )

    by_building: list[ResultRow] = []
    estate_rows: dict[int, ResultRow] = {}
    total = ResultRow(key=None, label="", households=0, sums=RatingSums())
    for place in households:
        building_id, estate_id = place["unit__building_id"], place["unit__building__estate_id"]
        sums = sums_by_building.pop(building_id, RatingSums())
        building = ResultRow(
            key=building_id,
            label=f"{place['unit__building__estate__name']} {place['unit__building__number']}",
            households=place["n"],
            sums=sums,
        )
        by_building.append(building)
        estate = estate_rows.setdefault(
            estate_id,
            ResultRow(
                key=estate_id,
                label=place["unit__building__estate__name"],
                households=0,
                sums=RatingSums(),
            ),
        )
        estate.households += place["n"]
        estate.sums.add(sums)
        total.households += place["n"]
        total.sums.add(sums)
    # Answers of households no longer in the survey's estates (moved in the registry)
    # still count in the total: they were given.
    for sums in sums_by_building.values():
        total.sums.add(sums)
    by_building.sort(key=lambda r: (r.label, r.key or 0))
    by_estate = sorted(estate_rows.values(), key=lambda r: (r.label, r.key or 0))
    return SurveyResults(survey=survey, total=total, by_estate=by_estate, by_building=by_building)


# --- trend --------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    """One round of a provider's surveys: its period, average and response rate."""

    survey_id: int
    title: str
    period_start: dt.date
    period_end: dt.date
    households: int
    answers: int
    overall: Decimal | None

    @property
    def response_rate(self) -> Decimal | None:
        return rate(self.answers, self.households)


def survey_trend(*, user: Any, provider: Organization, community: Community) -> list[TrendPoint]:
    """The provider's surveys in the community (opened ones), oldest period first, each
    with its overall average and response rate."""
    surveys = list(
        surveys_visible(user=user)
        .filter(provider=provider, community=community, status__in=ANSWERED_STATUSES)
        .order_by("period_start", "pk")
    )
    if not surveys:
        return []
    survey_ids = [s.pk for s in surveys]
    through = Survey.estates.through
    estates_of: dict[int, set[int]] = defaultdict(set)
    for survey_id, estate_id in through.objects.filter(survey_id__in=survey_ids).values_list(
        "survey_id", "estate_id"
    ):
        estates_of[survey_id].add(estate_id)
    all_estates = sorted(set().union(*estates_of.values())) if estates_of else []
    per_estate = dict(
        Household.objects.filter(unit__building__estate_id__in=all_estates)
        .values_list("unit__building__estate_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    answers = {
        row["survey_id"]: row
        for row in SurveyResponse.objects.filter(survey_id__in=survey_ids)
        .values("survey_id")
        .annotate(n=Count("pk"), total=Sum("overall"))
        .order_by()
    }
    points = []
    for survey in surveys:
        row = answers.get(survey.pk, {"n": 0, "total": 0})
        points.append(
            TrendPoint(
                survey_id=survey.pk,
                title=survey.title,
                period_start=survey.period_start,
                period_end=survey.period_end,
                households=sum(per_estate.get(e, 0) for e in estates_of[survey.pk]),
                answers=row["n"],
                overall=average(row["total"], row["n"]),
            )
        )
    return points


# --- the resident portal ------------------------------------------------------------


@dataclass(frozen=True)
class OpenSurvey:
    """An open survey a resident's household may answer, and whether it already did."""

    survey: Survey
    household_id: int
    answered: bool


def open_surveys_for(*, user: Any) -> list[OpenSurvey]:
    """The open surveys of the user's own household(s), each with whether answered."""
    scope = scope_for(user)
    household_ids = sorted(scope.household_ids)
    if not household_ids:
        return []
    estate_of = dict(
        Household.objects.filter(pk__in=household_ids).values_list(
            "pk", "unit__building__estate_id"
        )
    )
    through = Survey.estates.through
    links = list(
        through.objects.filter(
            estate_id__in=sorted(set(estate_of.values())), survey__status=Survey.Status.OPEN
        ).values_list("survey_id", "estate_id")
    )
    if not links:
        return []
    surveys = {
        s.pk: s
        for s in Survey.objects.filter(pk__in={sid for sid, _ in links}).select_related("provider")
    }
    answered = set(
        SurveyResponse.objects.filter(
            survey_id__in=list(surveys), household_id__in=household_ids
        ).values_list("survey_id", "household_id")
    )
    rows = [
        OpenSurvey(survey=surveys[survey_id], household_id=hh, answered=(survey_id, hh) in answered)
        for survey_id, estate_id in links
        for hh in household_ids
        if estate_of[hh] == estate_id
    ]
    rows.sort(key=lambda r: (r.answered, r.survey.period_end, r.survey.pk, r.household_id))
    return rows


__all__ = [
    "OpenSurvey",
    "ResultRow",
    "SurveyResults",
    "TrendPoint",
    "average",
    "estates_served_q",
    "is_community_staff",
    "is_property_staff",
    "open_surveys_for",
    "rate",
    "survey_results",
    "survey_trend",
    "surveys_visible",
]
