"""Scorecards: the figures of a provider for a period, on a small world made by hand,
and publishing them as a snapshot once per period."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext as _

from community.models import Organization
from community.tests.factories import (
    BuildingFactory,
    EstateFactory,
    HouseholdFactory,
    OrganizationFactory,
    UnitFactory,
)
from grievances.models import Grievance, SlaClock
from grievances.tests.factories_sla import SlaClockSpecFactory, SlaGrievanceFactory, running_clock
from property_mgmt.models import FeeBill, Scorecard, ServiceContract, Survey
from property_mgmt.selectors.scorecards import scorecard_compute, scorecards_compute_all
from property_mgmt.services.scorecards import scorecard_publish
from property_mgmt.tests.factories import ServiceContractFactory
from property_mgmt.tests.factories_surveys import Q1, Q2, SurveyFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db

FILED = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # inside Q1
NOW = dt.datetime(2026, 4, 10, 2, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
Status = Grievance.Status


def _household(building: Any) -> Any:
    return HouseholdFactory(unit=UnitFactory(building=building))


def _answers(survey: Survey, ratings: list[tuple[Any, int]]) -> None:
    survey.estates.add(*{hh.unit.building.estate for hh, _ in ratings})
    for household, overall in ratings:
        SurveyResponseFactory(
            survey=survey,
            household=household,
            building=household.unit.building,
            estate=household.unit.building.estate,
            overall=overall,
        )


def _grievance(community: Any, handler: Any, *, clock: str | None = None, **kw: Any) -> Grievance:
    grievance: Grievance = SlaGrievanceFactory.create(
        community=community, handler_organization=handler, submitted_at=FILED, **kw
    )
    if clock is not None:
        spec = SlaClockSpecFactory()
        fields: dict[str, Any] = {}
        if clock == "on_time":
            fields = {"state": SlaClock.State.STOPPED, "met_at": FILED + HOUR / 2}
        elif clock == "late":
            fields = {"state": SlaClock.State.STOPPED, "met_at": FILED + 2 * HOUR}
        running_clock(grievance, spec, started_at=FILED, **fields)
    return grievance


def _bill(
    contract: ServiceContract, household: Any, period: dt.date, amount: str, paid: str
) -> None:
    FeeBill.objects.create(
        contract=contract,
        household=household,
        building=household.unit.building,
        estate=household.unit.building.estate,
        period=period,
        amount=Decimal(amount),
        paid_amount=Decimal(paid),
        due_on=period + dt.timedelta(days=30),
    )


@dataclass
class Town:
    provider: Organization
    rival: Organization
    contract: ServiceContract


@pytest.fixture
def town(world: Any) -> Town:
    """world.property_company serves world.estate: 4 households (a, b and two more in
    building_a). A rival serves a second estate of `home` (1 household) by contract."""
    provider = world.property_company
    extra = _household(world.building_a)
    _household(world.building_a)
    contract = ServiceContractFactory(provider=provider, estate=world.estate)

    # Q1 survey: 3 and 2 → 2.50 over 2 answers; the Q2 survey's 5 is another period.
    q1 = SurveyFactory(community=world.home, provider=provider)
    _answers(q1, [(world.household_a, 3), (extra, 2)])
    q2 = SurveyFactory(
        community=world.home, provider=provider, period_start=Q2[0], period_end=Q2[1]
    )
    _answers(q2, [(world.household_b, 5)])

    # Grievances handled by the provider in Q1: resolved on time; closed after a reopening
    # but late; still open and past due. Not counted: another handler, another period,
    # another community, merged.
    g1 = _grievance(world.home, provider, clock="on_time", status=Status.RESOLVED)
    _grievance(world.home, provider, clock="late", status=Status.CLOSED, reopen_count=1)
    _grievance(world.home, provider, clock="running", status=Status.DISPATCHED)
    _grievance(world.home, OrganizationFactory(), clock="late", status=Status.CLOSED)
    _grievance(world.other, provider, clock="late", status=Status.CLOSED)
    late_filer = _grievance(world.home, provider, status=Status.RESOLVED)
    Grievance.objects.filter(pk=late_filer.pk).update(submitted_at=FILED + dt.timedelta(days=40))
    _grievance(world.home, provider, status=Status.MERGED, merged_into=g1)

    # Bills of January: 100 paid, 100 half paid; April is outside the quarter.
    _bill(contract, world.household_a, dt.date(2026, 1, 1), "100.00", "100.00")
    _bill(contract, world.household_b, dt.date(2026, 1, 1), "100.00", "50.00")
    _bill(contract, world.household_a, dt.date(2026, 4, 1), "100.00", "0.00")

    rival = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY, name="甲物业")
    rival_estate = EstateFactory(community=world.home)
    rival_home = _household(BuildingFactory(estate=rival_estate))
    rival_contract = ServiceContractFactory(provider=rival, estate=rival_estate)
    _bill(rival_contract, rival_home, dt.date(2026, 2, 1), "80.00", "20.00")
    _grievance(world.home, rival, clock="on_time", status=Status.RESOLVED)
    return Town(provider=provider, rival=rival, contract=contract)


def test_the_scorecard_figures_of_a_quarter(world: Any, town: Town) -> None:
    figures = scorecard_compute(
        community=world.home, provider=town.provider, period_start=Q1[0], period_end=Q1[1], now=NOW
    )
    assert figures.households == 4
    assert (figures.satisfaction, figures.survey_answers) == (Decimal("2.50"), 2)
    assert figures.complaints == 3
    assert figures.complaints_per_1000 == Decimal("750.00")
    assert figures.on_time_rate == Decimal("0.3333")  # 1 met of 3 judged
    assert figures.reopen_rate == Decimal("0.5000")  # 1 reopened of 2 resolved once
    assert figures.collection_rate == Decimal("0.7500")
    assert (figures.billed, figures.paid) == (Decimal("200.00"), Decimal("150.00"))


def test_a_clock_not_yet_due_has_no_verdict(world: Any, town: Town) -> None:
    figures = scorecard_compute(
        community=world.home,
        provider=town.provider,
        period_start=Q1[0],
        period_end=Q1[1],
        now=FILED + HOUR / 2,
    )
    assert figures.on_time_rate == Decimal("0.5000")  # the running clock is not judged yet


def test_a_provider_with_nothing_to_judge_has_no_rates(world: Any) -> None:
    idle = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY)
    figures = scorecard_compute(
        community=world.home, provider=idle, period_start=Q1[0], period_end=Q1[1], now=NOW
    )
    assert figures.households == 0
    assert figures.satisfaction is figures.on_time_rate is figures.collection_rate is None
    assert figures.complaints_per_1000 is None


def test_all_providers_at_once_match_each_one(world: Any, town: Town) -> None:
    every = scorecards_compute_all(
        community=world.home, period_start=Q1[0], period_end=Q1[1], now=NOW
    )
    assert [f.provider_id for f in every] == sorted(
        [town.provider.pk, town.rival.pk],
        key=lambda pk: Organization.objects.get(pk=pk).name,
    )
    for figures in every:
        one = scorecard_compute(
            community=world.home,
            provider=Organization.objects.get(pk=figures.provider_id),
            period_start=Q1[0],
            period_end=Q1[1],
            now=NOW,
        )
        assert one == figures
    rival = next(f for f in every if f.provider_id == town.rival.pk)
    assert (rival.households, rival.complaints, rival.collection_rate) == (1, 1, Decimal("0.2500"))


def test_all_providers_cost_the_same_queries_however_many_providers(world: Any, town: Town) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            scorecards_compute_all(
                community=world.home, period_start=Q1[0], period_end=Q1[1], now=NOW
            )
        return len(ctx.captured_queries)

    before = count()
    for _n in range(3):
        company = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY)
        estate = EstateFactory(community=world.home, property_company=company)
        _household(BuildingFactory(estate=estate))
        _grievance(world.home, company, clock="late", status=Status.CLOSED)
    assert count() == before
    assert (
        len(scorecards_compute_all(community=world.home, period_start=Q1[0], period_end=Q1[1])) == 5
    )


def test_publishing_stores_a_snapshot_once_per_period(world: Any, town: Town, staff: Any) -> None:
    card = scorecard_publish(
        actor=staff,
        community=world.home,
        provider=town.provider,
        period_start=Q1[0],
        period_end=Q1[1],
        now=NOW,
    )
    card.refresh_from_db()
    assert (card.households, card.satisfaction, card.collection_rate) == (
        4,
        Decimal("2.50"),
        Decimal("0.7500"),
    )
    assert (card.published_by, card.published_at) == (staff, NOW)

    # Later payments do not move a published scorecard.
    FeeBill.objects.filter(household=world.household_b).update(paid_amount=Decimal("100.00"))
    card.refresh_from_db()
    assert card.collection_rate == Decimal("0.7500")

    with pytest.raises(
        ValidationError,
        match=re.escape(_("A scorecard of this provider for this period is already published.")),
    ):
        scorecard_publish(
            actor=staff,
            community=world.home,
            provider=town.provider,
            period_start=Q1[0],
            period_end=Q1[1],
            now=NOW,
        )
    assert Scorecard.objects.count() == 1


@pytest.mark.parametrize("persona", ["outsider", "property_staff", "street_supervisor"])
def test_only_community_staff_publish(
    world: Any, town: Town, persona: str, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(PermissionDenied):
        scorecard_publish(
            actor=request.getfixturevalue(persona),
            community=world.home,
            provider=town.provider,
            period_start=Q1[0],
            period_end=Q1[1],
            now=NOW,
        )
    assert not Scorecard.objects.exists()
