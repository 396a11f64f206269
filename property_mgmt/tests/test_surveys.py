"""Satisfaction surveys: who creates and answers them, once per household, and the
results, trend and portal list they feed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext as _

from community.models import Membership, Organization
from community.tests.factories import (
    BuildingFactory,
    EstateFactory,
    HouseholdFactory,
    MembershipFactory,
    OrganizationFactory,
    ResidentFactory,
    UnitFactory,
    UserFactory,
)
from property_mgmt.models import Survey, SurveyResponse
from property_mgmt.selectors.surveys import open_surveys_for, survey_results, survey_trend
from property_mgmt.services.surveys import (
    survey_answer,
    survey_close,
    survey_create,
    survey_open,
)
from property_mgmt.tests.factories import ServiceContractFactory
from property_mgmt.tests.factories_surveys import NOW, Q1, Q2

pytestmark = pytest.mark.django_db
Role = Membership.Role


def _create(world: Any, staff: Any, *, period: tuple[dt.date, dt.date] = Q1, **kw: Any) -> Survey:
    values: dict[str, Any] = {
        "actor": staff,
        "community": world.home,
        "provider": world.property_company,
        "estates": [world.estate],
        "title": "2026年第一季度物业满意度测评",
        "period_start": period[0],
        "period_end": period[1],
        "now": NOW,
    }
    values.update(kw)
    return survey_create(**values)


@pytest.fixture
def survey(world: Any, staff: Any) -> Survey:
    return survey_open(survey=_create(world, staff), actor=staff, now=NOW)


def _answer(survey: Survey, household: Any, actor: Any, overall: Any = 4, **kw: Any) -> Any:
    return survey_answer(
        survey=survey, household=household, actor=actor, overall=overall, now=NOW, **kw
    )


def _resident_login(household: Any, name: str = "李明") -> Any:
    user = UserFactory(name=name)
    ResidentFactory(household=household, user=user, name=name)
    return user


# --- creating, opening, closing -----------------------------------------------------


def test_staff_create_a_draft_survey_over_the_providers_estate(world: Any, staff: Any) -> None:
    survey = _create(world, staff)
    assert survey.status == Survey.Status.DRAFT
    assert list(survey.estates.all()) == [world.estate]
    assert survey.created_by == staff


@pytest.mark.parametrize("persona", ["outsider", "property_staff", "resident", "grid_worker"])
def test_only_community_staff_create_a_survey(
    world: Any, persona: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        _create(world, user)
    assert not Survey.objects.exists()


def test_an_estate_the_provider_does_not_serve_is_refused(world: Any, staff: Any) -> None:
    unserved = EstateFactory(community=world.home)
    with pytest.raises(
        ValidationError,
        match=re.escape(_("Every estate must be in this community and served by the provider.")),
    ):
        _create(world, staff, estates=[world.estate, unserved])


def test_an_estate_of_another_community_is_refused(world: Any, staff: Any) -> None:
    world.other_estate.property_company = world.property_company
    world.other_estate.save()
    with pytest.raises(
        ValidationError,
        match=re.escape(_("Every estate must be in this community and served by the provider.")),
    ):
        _create(world, staff, estates=[world.other_estate])


def test_an_estate_served_under_a_contract_may_be_surveyed(world: Any, staff: Any) -> None:
    contracted = EstateFactory(community=world.home)
    ServiceContractFactory(provider=world.property_company, estate=contracted)
    survey = _create(world, staff, estates=[contracted])
    assert list(survey.estates.all()) == [contracted]


def test_a_survey_opens_then_closes_and_never_reopens(world: Any, staff: Any) -> None:
    survey = _create(world, staff)
    with pytest.raises(ValidationError):
        survey_close(survey=survey, actor=staff, now=NOW)
    survey_open(survey=survey, actor=staff, now=NOW)
    survey_close(survey=survey, actor=staff, now=NOW + dt.timedelta(days=1))
    survey.refresh_from_db()
    assert survey.status == Survey.Status.CLOSED
    assert survey.closed_at == NOW + dt.timedelta(days=1)
    with pytest.raises(ValidationError):
        survey_open(survey=survey, actor=staff, now=NOW)
    assert survey.history.filter(history_user=staff, status=Survey.Status.CLOSED).exists()


def test_property_staff_cannot_open_the_survey_of_their_own_company(
    world: Any, staff: Any, property_staff: Any
) -> None:
    survey = _create(world, staff)
    with pytest.raises(PermissionDenied):
        survey_open(survey=survey, actor=property_staff, now=NOW)


# --- answering ----------------------------------------------------------------------


def test_a_resident_answers_on_the_portal(world: Any, survey: Survey, resident: Any) -> None:
    answer = _answer(survey, world.household_a, resident, overall=4, cleaning=5, comment=" 不错 ")
    assert answer.channel == SurveyResponse.Channel.PORTAL
    assert answer.respondent == world.resident_a
    assert answer.entered_by == resident
    assert (answer.building, answer.estate) == (world.building_a, world.estate)
    assert (answer.overall, answer.cleaning, answer.security) == (4, 5, None)
    assert answer.comment == "不错"


def test_a_household_answers_once(world: Any, survey: Survey, resident: Any) -> None:
    _answer(survey, world.household_a, resident, overall=4)
    spouse = _resident_login(world.household_a)
    with pytest.raises(
        ValidationError, match=re.escape(_("This household has already answered this survey."))
    ):
        _answer(survey, world.household_a, spouse, overall=1)
    assert SurveyResponse.objects.get(survey=survey).overall == 4


def test_the_grid_worker_cannot_answer_again_for_a_household_that_answered(
    world: Any, survey: Survey, resident: Any, grid_worker: Any
) -> None:
    _answer(survey, world.household_a, resident)
    with pytest.raises(
        ValidationError, match=re.escape(_("This household has already answered this survey."))
    ):
        _answer(survey, world.household_a, grid_worker, on_behalf=True)


def test_the_grid_worker_answers_on_behalf_and_it_is_recorded_as_such(
    world: Any, survey: Survey, grid_worker: Any
) -> None:
    answer = _answer(survey, world.household_a, grid_worker, overall=3, on_behalf=True)
    assert answer.channel == SurveyResponse.Channel.ON_BEHALF
    assert answer.entered_by == grid_worker
    assert answer.respondent is None


def test_a_grid_worker_may_not_answer_for_a_building_outside_their_grid(
    world: Any, survey: Survey, grid_worker: Any
) -> None:
    with pytest.raises(PermissionDenied):
        _answer(survey, world.household_b, grid_worker, on_behalf=True)
    assert not SurveyResponse.objects.exists()


def test_community_staff_may_enter_an_answer_on_behalf(
    world: Any, survey: Survey, staff: Any
) -> None:
    answer = _answer(survey, world.household_b, staff, on_behalf=True)
    assert (answer.channel, answer.entered_by) == (SurveyResponse.Channel.ON_BEHALF, staff)


@pytest.mark.parametrize("persona", ["outsider", "grid_worker", "property_staff"])
def test_only_a_resident_of_the_household_answers_on_the_portal(
    world: Any, survey: Survey, persona: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        _answer(survey, world.household_a, user)


def test_a_resident_may_not_answer_for_another_household(
    world: Any, survey: Survey, resident: Any
) -> None:
    with pytest.raises(PermissionDenied):
        _answer(survey, world.household_b, resident)


def test_answers_are_refused_once_the_survey_is_closed(
    world: Any, survey: Survey, staff: Any, resident: Any
) -> None:
    survey_close(survey=survey, actor=staff, now=NOW)
    with pytest.raises(ValidationError, match=re.escape(_("This survey is not open for answers."))):
        _answer(survey, world.household_a, resident)
    assert not SurveyResponse.objects.exists()


def test_answers_are_refused_before_the_survey_opens(world: Any, staff: Any, resident: Any) -> None:
    draft = _create(world, staff)
    with pytest.raises(ValidationError, match=re.escape(_("This survey is not open for answers."))):
        _answer(draft, world.household_a, resident)


def test_a_household_outside_the_surveys_estates_is_refused(world: Any, survey: Survey) -> None:
    outside = _resident_login(world.other_household, "王芳")
    with pytest.raises(
        ValidationError, match=re.escape(_("This household is not among the survey's estates."))
    ):
        _answer(survey, world.other_household, outside)
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("overall", [0, 6, "5.5", None, "", True])
def test_ratings_must_be_1_to_5(world: Any, survey: Survey, resident: Any, overall: Any) -> None:
    with pytest.raises(ValidationError):
        _answer(survey, world.household_a, resident, overall=overall)
    with pytest.raises(ValidationError):
        _answer(survey, world.household_a, resident, overall=3, parking=9)
    assert not SurveyResponse.objects.exists()


# --- results ------------------------------------------------------------------------


def _household(building: Any) -> Any:
    return HouseholdFactory(unit=UnitFactory(building=building))


@pytest.fixture
def answered(world: Any, survey: Survey, staff: Any) -> Survey:
    """building_a: 3 households, 2 answered (4 with cleaning 5; 2 without); building_b:
    1 household, answered 5 with cleaning 3."""
    extra = _household(world.building_a)
    _household(world.building_a)
    _answer(survey, world.household_a, staff, overall=4, cleaning=5, on_behalf=True)
    _answer(survey, extra, staff, overall=2, on_behalf=True)
    _answer(survey, world.household_b, staff, overall=5, cleaning=3, on_behalf=True)
    return survey


def test_results_give_averages_and_response_rates(world: Any, answered: Survey, staff: Any) -> None:
    results = survey_results(user=staff, survey=answered)
    total = results.total
    assert (total.answers, total.households) == (3, 4)
    assert total.response_rate == Decimal("0.7500")
    assert total.overall == Decimal("3.67")
    assert total.areas["cleaning"] == Decimal("4.00")
    assert total.areas["parking"] is None

    by_building = {row.key: row for row in results.by_building}
    a, b = by_building[world.building_a.pk], by_building[world.building_b.pk]
    assert (a.answers, a.households, a.response_rate, a.overall) == (
        2,
        3,
        Decimal("0.6667"),
        Decimal("3.00"),
    )
    assert (b.answers, b.households, b.response_rate, b.overall) == (
        1,
        1,
        Decimal("1.0000"),
        Decimal("5.00"),
    )
    [estate] = results.by_estate
    assert (estate.key, estate.answers, estate.households) == (world.estate.pk, 3, 4)


def test_property_staff_and_the_street_see_the_results_of_the_company(
    answered: Survey, property_staff: Any, street_supervisor: Any
) -> None:
    assert survey_results(user=property_staff, survey=answered).total.answers == 3
    assert survey_results(user=street_supervisor, survey=answered).total.answers == 3


@pytest.mark.parametrize("persona", ["outsider", "resident", "grid_worker"])
def test_results_are_not_for_outsiders_or_residents(
    answered: Survey, persona: str, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(Survey.DoesNotExist):
        survey_results(user=request.getfixturevalue(persona), survey=answered)


def test_staff_of_another_company_do_not_see_the_results(answered: Survey) -> None:
    rival = UserFactory()
    MembershipFactory(
        user=rival,
        role=Role.PROPERTY_STAFF,
        organization=OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY),
    )
    with pytest.raises(Survey.DoesNotExist):
        survey_results(user=rival, survey=answered)


def test_results_cost_the_same_queries_however_many_buildings(
    world: Any, answered: Survey, staff: Any
) -> None:
    def count() -> int:
        user = type(staff).objects.get(pk=staff.pk)  # a fresh user: no cached scope
        with CaptureQueriesContext(connection) as ctx:
            survey_results(user=user, survey=answered)
        return len(ctx.captured_queries)

    before = count()
    for _n in range(3):
        building = BuildingFactory(estate=world.estate)
        _answer(answered, _household(building), staff, overall=3, on_behalf=True)
    assert count() == before


# --- trend and the portal -------------------------------------------------------------


def test_trend_lists_each_round_with_its_average_and_response_rate(
    world: Any, answered: Survey, staff: Any
) -> None:
    q2 = survey_open(
        survey=_create(world, staff, period=Q2, title="第二季度"), actor=staff, now=NOW
    )
    _answer(q2, world.household_b, staff, overall=1, on_behalf=True)
    _create(world, staff, period=(dt.date(2026, 7, 1), dt.date(2026, 9, 30)), title="草稿")

    trend = survey_trend(user=staff, provider=world.property_company, community=world.home)
    assert [(p.period_start, p.answers, p.households) for p in trend] == [
        (Q1[0], 3, 4),
        (Q2[0], 1, 4),
    ]
    assert [p.overall for p in trend] == [Decimal("3.67"), Decimal("1.00")]
    assert [p.response_rate for p in trend] == [Decimal("0.7500"), Decimal("0.2500")]
    assert (
        survey_trend(user=UserFactory(), provider=world.property_company, community=world.home)
        == []
    )


def test_the_portal_lists_the_households_open_surveys_and_whether_answered(
    world: Any, survey: Survey, staff: Any, resident: Any, outsider: Any
) -> None:
    closed = survey_open(survey=_create(world, staff, title="旧的"), actor=staff, now=NOW)
    survey_close(survey=closed, actor=staff, now=NOW)

    [row] = open_surveys_for(user=resident)
    assert (row.survey, row.household_id, row.answered) == (survey, world.household_a.pk, False)

    _answer(survey, world.household_a, resident)
    fresh = type(resident).objects.get(pk=resident.pk)
    [row] = open_surveys_for(user=fresh)
    assert row.answered is True

    assert open_surveys_for(user=outsider) == []
    other = _resident_login(world.other_household, "王芳")
    assert open_surveys_for(user=other) == []
