"""/api/v1/property/ surveys, scorecards and the black list: my household's open surveys
and answering once (also by the grid worker on behalf), results for staff and the rated
company, computing and publishing scorecards, the public black list and the office's and
the company's moves on an entry; scoping (outsider and another company: 404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from community.models import Membership, Organization
from community.tests.factories import (
    EstateFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from property_mgmt.models import BlacklistEntry, Scorecard, Survey, SurveyResponse
from property_mgmt.tests.factories_surveys import (
    NOW,
    BlacklistEntryFactory,
    BlacklistRuleFactory,
    SurveyFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/property/"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def queries(user: Any, url: str) -> int:
    """The queries of one GET, the user's scope read afresh as in a new request."""
    user._linli_scope = None
    with CaptureQueriesContext(connection) as ctx:
        response = api(user).get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.fixture
def rival_staff(world: Any) -> Any:
    """Staff of another property company, serving an estate of the other community."""
    rival = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY)
    EstateFactory(community=world.other, property_company=rival)
    user = UserFactory(name="钱经理")
    MembershipFactory(user=user, role=Membership.Role.PROPERTY_STAFF, organization=rival)
    return user


@pytest.fixture
def survey(world: Any) -> Survey:
    survey: Survey = SurveyFactory.create(community=world.home, provider=world.property_company)
    survey.estates.add(world.estate)
    return survey


def _answer(user: Any, survey: Survey, **body: Any) -> Any:
    body.setdefault("overall", 4)
    return api(user).post(f"{BASE}surveys/{survey.pk}/answer/", body, format="json")


# --- surveys ---------------------------------------------------------------------------------


def test_my_open_surveys_and_answering_once(world: Any, resident: Any, survey: Survey) -> None:
    rows = api(resident).get(BASE + "surveys/open/").json()
    assert [(r["survey"], r["household"], r["answered"]) for r in rows] == [
        (survey.pk, world.household_a.pk, False)
    ]
    response = _answer(resident, survey, overall=4, cleaning=5, comment="保洁很好")
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "portal" and response.json()["cleaning"] == 5
    assert api(resident).get(BASE + "surveys/open/").json()[0]["answered"] is True
    again = _answer(resident, survey, overall=2)
    assert again.status_code == 400 and again.json()["code"] == "answered"
    assert SurveyResponse.objects.get().overall == 4


def test_a_rating_out_of_range_is_refused_by_field_with_its_code(
    resident: Any, survey: Survey
) -> None:
    response = _answer(resident, survey, overall=6)
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["overall"] == [body["detail"]] and body["detail"]
    assert body["code"] == "rating"
    assert not SurveyResponse.objects.exists()


def test_a_closed_survey_takes_no_answer(resident: Any, survey: Survey) -> None:
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.CLOSED)
    response = _answer(resident, survey)
    assert response.status_code == 400 and response.json()["code"] == "closed"


def test_the_grid_worker_answers_on_behalf_of_a_household(
    world: Any, grid_worker: Any, survey: Survey
) -> None:
    response = _answer(grid_worker, survey, household=world.household_a.pk, on_behalf=True)
    assert response.status_code == 201, response.content
    answer = SurveyResponse.objects.get()
    assert answer.channel == "on_behalf" and answer.entered_by == grid_worker


def test_a_resident_may_not_answer_for_a_neighbour(
    world: Any, resident: Any, staff: Any, survey: Survey
) -> None:
    # household_b is in the same community: staff see it, the resident does not.
    response = _answer(resident, survey, household=world.household_b.pk)
    assert response.status_code == 404
    response = _answer(staff, survey, household=world.household_b.pk)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not SurveyResponse.objects.exists()


def test_answering_a_survey_out_of_scope_is_404(
    world: Any, outsider: Any, rival_staff: Any, survey: Survey
) -> None:
    for user in (outsider, rival_staff):
        assert _answer(user, survey, household=world.household_a.pk).status_code == 404


def test_results_for_staff_and_the_rated_company(
    world: Any, staff: Any, property_staff: Any, survey: Survey
) -> None:
    SurveyResponseFactory(
        survey=survey,
        household=world.household_a,
        building=world.building_a,
        estate=world.estate,
        overall=5,
        cleaning=4,
    )
    for user in (staff, property_staff):
        body = api(user).get(f"{BASE}surveys/{survey.pk}/results/").json()
        assert body["total"]["answers"] == 1 and body["total"]["overall"] == "5.00"
        assert body["total"]["households"] == 2 and body["total"]["response_rate"] == "0.5000"
        assert body["total"]["areas"]["cleaning"] == "4.00"
        assert [r["key"] for r in body["by_estate"]] == [world.estate.pk]


def test_results_are_not_for_residents_nor_outsiders(
    resident: Any, outsider: Any, rival_staff: Any, survey: Survey
) -> None:
    for user in (resident, outsider, rival_staff):
        assert api(user).get(f"{BASE}surveys/{survey.pk}/results/").status_code == 404


# --- scorecards ------------------------------------------------------------------------------

PERIOD = "period_start=2026-01-01&period_end=2026-03-31"


def test_staff_compute_and_publish_a_scorecard(world: Any, staff: Any) -> None:
    url = f"{BASE}scorecards/compute/?community={world.home.pk}&{PERIOD}"
    figures = api(staff).get(url).json()
    assert [f["provider"] for f in figures] == [world.property_company.pk]
    assert figures[0]["households"] == 2
    body = {
        "community": world.home.pk,
        "provider": world.property_company.pk,
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
    }
    response = api(staff).post(BASE + "scorecards/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["households"] == 2 and Scorecard.objects.count() == 1
    again = api(staff).post(BASE + "scorecards/", body, format="json")
    assert again.status_code == 400 and again.json()["code"] == "published"


def test_publishing_applies_the_black_list_rules(world: Any, staff: Any) -> None:
    BlacklistRuleFactory(
        community=world.home, metric="complaints_per_1000", comparison="below", threshold="1"
    )
    body = {
        "community": world.home.pk,
        "provider": world.property_company.pk,
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
    }
    assert api(staff).post(BASE + "scorecards/", body, format="json").status_code == 201
    entry = BlacklistEntry.objects.get()
    assert entry.status == "proposed" and entry.provider == world.property_company


def test_property_staff_may_not_publish_nor_compute(world: Any, property_staff: Any) -> None:
    body = {
        "community": world.home.pk,
        "provider": world.property_company.pk,
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
    }
    response = api(property_staff).post(BASE + "scorecards/", body, format="json")
    assert response.status_code == 403
    url = f"{BASE}scorecards/compute/?community={world.home.pk}&{PERIOD}"
    assert api(property_staff).get(url).status_code == 403
    assert not Scorecard.objects.exists()


def test_scorecards_out_of_scope_are_404(world: Any, outsider: Any, rival_staff: Any) -> None:
    for user in (outsider, rival_staff):
        assert api(user).get(f"{BASE}scorecards/?community={world.home.pk}").status_code == 404
        url = f"{BASE}scorecards/compute/?community={world.home.pk}&{PERIOD}"
        assert api(user).get(url).status_code == 404


def _scorecard(world: Any, staff: Any, provider: Any) -> Scorecard:
    return Scorecard.objects.create(
        community=world.home,
        provider=provider,
        period_start="2026-01-01",
        period_end="2026-03-31",
        households=10,
        published_at=NOW,
        published_by=staff,
    )


def test_published_scorecards_list_for_residents(world: Any, staff: Any, resident: Any) -> None:
    card = _scorecard(world, staff, world.property_company)
    url = f"{BASE}scorecards/?community={world.home.pk}"
    body = api(resident).get(url).json()
    assert [r["id"] for r in body["results"]] == [card.pk]
    assert body["results"][0]["provider_name"] == world.property_company.name
    one = queries(resident, url)
    for _ in range(4):
        _scorecard(world, staff, OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY))
    assert queries(resident, url) == one


# --- the black list --------------------------------------------------------------------------


@pytest.fixture
def entry(world: Any) -> BlacklistEntry:
    entry: BlacklistEntry = BlacklistEntryFactory.create(
        community=world.home, provider=world.property_company
    )
    return entry


def _act(user: Any, entry: BlacklistEntry, action: str, **body: Any) -> Any:
    return api(user).post(f"{BASE}blacklist/{entry.pk}/{action}/", body, format="json")


def test_the_office_confirms_the_company_responds_the_board_shows_it(
    world: Any, staff: Any, property_staff: Any, resident: Any, entry: BlacklistEntry
) -> None:
    board = f"{BASE}blacklist/?community={world.home.pk}"
    assert api(resident).get(board).json() == []  # proposed only: not on the board
    response = _act(staff, entry, "confirm", evidence="三次测评均低于3分")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "listed"
    response = _act(property_staff, entry, "respond", response="已更换保洁公司")
    assert response.status_code == 200 and response.json()["response"] == "已更换保洁公司"
    rows = api(resident).get(board).json()
    assert [r["entry"] for r in rows] == [entry.pk]
    assert rows[0]["reasons"] == ["满意度 2.80，低于 3.00"]
    assert rows[0]["response"] == "已更换保洁公司"
    response = _act(staff, entry, "remove", reason="整改到位")
    assert response.status_code == 200 and response.json()["status"] == "removed"
    assert api(resident).get(board).json() == []


def test_confirming_without_evidence_is_refused_with_its_code(
    staff: Any, entry: BlacklistEntry
) -> None:
    response = _act(staff, entry, "confirm", evidence=" ")
    assert response.status_code == 400
    assert response.json()["errors"]["evidence"] == [response.json()["detail"]]
    assert response.json()["code"] == "evidence"
    entry.refresh_from_db()
    assert entry.status == "proposed"


def test_the_office_dismisses_a_proposal(staff: Any, entry: BlacklistEntry) -> None:
    response = _act(staff, entry, "dismiss", reason="数据有误")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    again = _act(staff, entry, "confirm", evidence="x")
    assert again.status_code == 400 and again.json()["code"] == "status"


def test_the_company_may_not_confirm_nor_a_resident_respond(
    property_staff: Any, resident: Any, staff: Any, entry: BlacklistEntry
) -> None:
    assert _act(property_staff, entry, "confirm", evidence="x").status_code == 403
    _act(staff, entry, "confirm", evidence="证据")
    response = _act(resident, entry, "respond", response="我来回应")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_black_list_out_of_scope_is_404(
    world: Any, outsider: Any, rival_staff: Any, entry: BlacklistEntry
) -> None:
    for user in (outsider, rival_staff):
        assert _act(user, entry, "confirm", evidence="x").status_code == 404
        assert _act(user, entry, "respond", response="x").status_code == 404
        assert api(user).get(f"{BASE}blacklist/?community={world.home.pk}").status_code == 404
    entry.refresh_from_db()
    assert entry.status == "proposed"
