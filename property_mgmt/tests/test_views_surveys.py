"""The survey pages: the office creates, opens, closes and reads a survey; a resident rates
their company on the phone page (once); a grid worker answers for a household of their
grid; everyone else gets 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from community.models import Membership
from community.tests.factories import (
    HouseholdFactory,
    MembershipFactory,
    OrganizationFactory,
    ResidentFactory,
    UnitFactory,
    UserFactory,
)
from property_mgmt.models import Survey, SurveyResponse
from property_mgmt.services.surveys import survey_close, survey_create, survey_open
from property_mgmt.tests.factories_surveys import NOW, Q1

pytestmark = pytest.mark.django_db
Role = Membership.Role
OFFICE = reverse("property:survey-office")
PORTAL = reverse("property:survey-portal")
GRID = reverse("property:survey-grid")


def _survey(
    world: Any, staff: Any, *, title: str = "2026年一季度满意度", opened: bool = True
) -> Survey:
    survey = survey_create(
        actor=staff,
        community=world.home,
        provider=world.property_company,
        estates=[world.estate],
        title=title,
        period_start=Q1[0],
        period_end=Q1[1],
        now=NOW,
    )
    return survey_open(survey=survey, actor=staff, now=NOW) if opened else survey


def _texts(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _answer_url(survey: Survey, household: Any) -> str:
    return reverse("property:survey-answer", args=[survey.pk, household.pk])


def _grid_url(household: Any, survey: Survey) -> str:
    return reverse("property:survey-grid-answer", args=[household.pk, survey.pk])


# --- who may come in -------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_log_in(client: Any, world: Any) -> None:
    for url in (OFFICE, PORTAL, GRID):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response.url


def test_outsider_is_denied_every_survey_page(
    client: Any, world: Any, staff: Any, outsider: Any
) -> None:
    survey = _survey(world, staff)
    client.force_login(outsider)
    assert client.get(OFFICE).status_code == 404
    assert client.get(reverse("property:survey-new")).status_code == 404
    assert client.get(reverse("property:survey-results", args=[survey.pk])).status_code == 404
    assert client.get(PORTAL).status_code == 404
    assert client.get(GRID).status_code == 404
    assert client.post(_answer_url(survey, world.household_a), {"overall": "5"}).status_code == 404
    assert client.post(_grid_url(world.household_a, survey), {"overall": "5"}).status_code == 404
    assert (
        client.post(reverse("property:survey-action", args=[survey.pk, "close"])).status_code == 404
    )
    assert not SurveyResponse.objects.exists()
    survey.refresh_from_db()
    assert survey.status == Survey.Status.OPEN


def test_staff_of_another_community_and_another_company_get_404(
    client: Any, world: Any, staff: Any
) -> None:
    survey = _survey(world, staff)
    results = reverse("property:survey-results", args=[survey.pk])
    stranger = UserFactory()
    MembershipFactory(user=stranger, role=Role.COMMUNITY_STAFF, community=world.other)
    rival = UserFactory()
    MembershipFactory(user=rival, role=Role.PROPERTY_STAFF, organization=OrganizationFactory())
    for user in (stranger, rival):
        client.force_login(user)
        assert client.get(results).status_code == 404
    client.force_login(stranger)
    assert survey.title not in client.get(OFFICE).content.decode()
    assert (
        client.post(reverse("property:survey-action", args=[survey.pk, "close"])).status_code == 404
    )


# --- the office -------------------------------------------------------------------------


def test_staff_create_open_and_close_a_survey(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    form = client.get(reverse("property:survey-new"))
    assert world.property_company.name in form.content.decode()
    response = client.post(
        reverse("property:survey-new"),
        {
            "provider": world.property_company.pk,
            "estates": [world.estate.pk],
            "title": "二季度物业满意度测评",
            "period_start": "2026-04-01",
            "period_end": "2026-06-30",
        },
    )
    survey = Survey.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("property:survey-results", args=[survey.pk])
    assert survey.status == Survey.Status.DRAFT
    assert list(survey.estates.all()) == [world.estate]
    assert "二季度物业满意度测评" in client.get(OFFICE).content.decode()

    action = reverse("property:survey-action", args=[survey.pk, "open"])
    page = client.get(client.post(action).url)
    assert _texts(page) == [_("The survey is open: households can answer now.")]
    survey.refresh_from_db()
    assert survey.status == Survey.Status.OPEN
    client.post(reverse("property:survey-action", args=[survey.pk, "close"]))
    survey.refresh_from_db()
    assert survey.status == Survey.Status.CLOSED


def test_a_closed_survey_cannot_be_opened_again(client: Any, world: Any, staff: Any) -> None:
    survey = survey_close(survey=_survey(world, staff), actor=staff, now=NOW)
    client.force_login(staff)
    response = client.post(reverse("property:survey-action", args=[survey.pk, "open"]), follow=True)
    assert _texts(response) == [
        _("This survey cannot go from %(old)s to %(new)s.")
        % {"old": Survey.Status.CLOSED.label, "new": Survey.Status.OPEN.label}
    ]
    survey.refresh_from_db()
    assert survey.status == Survey.Status.CLOSED


def test_a_new_survey_with_a_backwards_period_is_refused(
    client: Any, world: Any, staff: Any
) -> None:
    client.force_login(staff)
    response = client.post(
        reverse("property:survey-new"),
        {
            "provider": world.property_company.pk,
            "estates": [world.estate.pk],
            "title": "测评",
            "period_start": "2026-06-30",
            "period_end": "2026-04-01",
        },
    )
    assert response.status_code == 200
    assert _("The period ends before it starts.") in response.content.decode()
    assert not Survey.objects.exists()


def test_results_show_averages_response_rate_and_trend(
    client: Any, world: Any, staff: Any, resident: Any, property_staff: Any
) -> None:
    survey = _survey(world, staff)
    client.force_login(resident)
    client.post(_answer_url(survey, world.household_a), {"overall": "4", "cleaning": "2"})
    url = reverse("property:survey-results", args=[survey.pk])
    for user in (staff, property_staff):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert response.context["rows_total"]["overall"] == 4
        assert response.context["rows_total"]["answers"] == 1
        # Two households in the estate, one answered.
        assert response.context["rows_total"]["rate"] == "50.00%"
        buildings = {r["label"]: r for r in response.context["rows_building"]}
        label = f"{world.estate.name} {world.building_a.number}"
        assert buildings[label]["areas"][0] == 2  # cleaning
        assert [p.survey_id for p, _r in response.context["trend"]] == [survey.pk]
    # Only the office manages it.
    assert b'data-testid="close"' not in client.get(url).content


def test_office_list_pages_and_queries_do_not_grow_with_rows(
    client: Any, world: Any, staff: Any, django_assert_max_num_queries: Any
) -> None:
    _survey(world, staff, title="第0轮")
    client.force_login(staff)
    client.get(OFFICE)
    with django_assert_max_num_queries(50) as ctx:
        assert client.get(OFFICE).status_code == 200
    one = len(ctx.captured_queries)
    for n in range(1, 25):
        _survey(world, staff, title=f"第{n}轮", opened=False)
    with django_assert_max_num_queries(one):
        response = client.get(OFFICE)
    assert len(response.context["page"].object_list) == 20
    assert response.context["page"].paginator.count == 25


# --- the resident's phone page ----------------------------------------------------------


def test_resident_rates_once_and_a_second_answer_is_refused(
    client: Any, world: Any, staff: Any, resident: Any
) -> None:
    survey = _survey(world, staff)
    client.force_login(resident)
    page = client.get(PORTAL)
    assert page.status_code == 200
    html = page.content.decode()
    assert survey.title in html and world.property_company.name in html
    assert 'name="overall" value="5"' in html
    assert 'class="worker"' in html  # the phone-first layout

    response = client.post(
        _answer_url(survey, world.household_a),
        {"overall": "5", "repairs": "3", "parking": "", "comment": "保洁很好"},
        follow=True,
    )
    assert _texts(response) == [_("Thank you: your household's answer is recorded.")]
    assert b'data-testid="answered"' in response.content
    assert b'data-testid="rating-form"' not in response.content
    answer = SurveyResponse.objects.get()
    assert (answer.overall, answer.repairs, answer.parking) == (5, 3, None)
    assert answer.channel == SurveyResponse.Channel.PORTAL
    assert answer.comment == "保洁很好"

    again = client.post(_answer_url(survey, world.household_a), {"overall": "1"}, follow=True)
    assert _texts(again) == [_("This household has already answered this survey.")]
    assert SurveyResponse.objects.get().overall == 5


def test_another_member_of_the_household_is_refused_too(
    client: Any, world: Any, staff: Any, resident: Any
) -> None:
    survey = _survey(world, staff)
    client.force_login(resident)
    client.post(_answer_url(survey, world.household_a), {"overall": "4"}, follow=True)
    spouse = UserFactory()
    ResidentFactory(household=world.household_a, user=spouse, name="张太太")
    client.force_login(spouse)
    response = client.post(_answer_url(survey, world.household_a), {"overall": "2"}, follow=True)
    assert _texts(response) == [_("This household has already answered this survey.")]
    assert SurveyResponse.objects.count() == 1


def test_an_answer_without_an_overall_rating_is_refused(
    client: Any, world: Any, staff: Any, resident: Any
) -> None:
    survey = _survey(world, staff)
    client.force_login(resident)
    response = client.post(_answer_url(survey, world.household_a), {"cleaning": "4"}, follow=True)
    assert _texts(response) == [_("Give a rating from 1 to 5.")]
    assert not SurveyResponse.objects.exists()
    # Out of range is refused the same way.
    response = client.post(_answer_url(survey, world.household_a), {"overall": "9"}, follow=True)
    assert _texts(response) == [_("Give a rating from 1 to 5.")]
    assert not SurveyResponse.objects.exists()


def test_a_closed_survey_leaves_the_page_and_takes_no_answer(
    client: Any, world: Any, staff: Any, resident: Any
) -> None:
    survey = survey_close(survey=_survey(world, staff), actor=staff, now=NOW)
    client.force_login(resident)
    assert b'data-testid="no-surveys"' in client.get(PORTAL).content
    response = client.post(_answer_url(survey, world.household_a), {"overall": "3"}, follow=True)
    assert _texts(response) == [_("This survey is not open for answers.")]
    assert not SurveyResponse.objects.exists()


def test_a_resident_cannot_answer_for_another_household(
    client: Any, world: Any, staff: Any, resident: Any
) -> None:
    survey = _survey(world, staff)
    client.force_login(resident)
    assert client.post(_answer_url(survey, world.household_b), {"overall": "1"}).status_code == 404
    assert not SurveyResponse.objects.exists()


def test_portal_queries_do_not_grow_with_surveys(
    client: Any, world: Any, staff: Any, resident: Any, django_assert_max_num_queries: Any
) -> None:
    _survey(world, staff, title="第0轮")
    client.force_login(resident)
    client.get(PORTAL)
    with django_assert_max_num_queries(50) as ctx:
        assert client.get(PORTAL).status_code == 200
    one = len(ctx.captured_queries)
    for n in range(1, 6):
        _survey(world, staff, title=f"第{n}轮")
    with django_assert_max_num_queries(one):
        response = client.get(PORTAL)
    assert len(response.context["rows"]) == 6


# --- the grid worker's phone page ---------------------------------------------------------


def test_grid_worker_answers_for_a_household_of_their_grid(
    client: Any, world: Any, staff: Any, grid_worker: Any
) -> None:
    survey = _survey(world, staff)
    client.force_login(grid_worker)
    page = client.get(GRID)
    assert [b.pk for b in page.context["buildings"]] == [world.building_a.pk]
    assert b'data-testid="on-behalf-note"' in page.content
    rooms = client.get(f"{GRID}?building={world.building_a.pk}")
    assert [h.pk for h in rooms.context["households"]] == [world.household_a.pk]
    form = client.get(f"{GRID}?household={world.household_a.pk}")
    assert survey.title in form.content.decode()

    response = client.post(
        _grid_url(world.household_a, survey), {"overall": "3", "security": "4"}, follow=True
    )
    assert _texts(response) == [_("Answer recorded on the household's behalf, as entered by you.")]
    answer = SurveyResponse.objects.get()
    assert answer.channel == SurveyResponse.Channel.ON_BEHALF
    assert answer.entered_by == grid_worker
    assert answer.respondent is None
    assert (answer.overall, answer.security) == (3, 4)
    assert b'data-testid="answered"' in response.content


def test_grid_worker_is_refused_after_the_resident_answered(
    client: Any, world: Any, staff: Any, resident: Any, grid_worker: Any
) -> None:
    survey = _survey(world, staff)
    client.force_login(resident)
    client.post(_answer_url(survey, world.household_a), {"overall": "5"}, follow=True)
    client.force_login(grid_worker)
    response = client.post(_grid_url(world.household_a, survey), {"overall": "1"}, follow=True)
    assert _texts(response) == [_("This household has already answered this survey.")]
    assert SurveyResponse.objects.get().overall == 5


def test_grid_worker_cannot_reach_a_household_of_another_grid(
    client: Any, world: Any, staff: Any, grid_worker: Any
) -> None:
    survey = _survey(world, staff)
    client.force_login(grid_worker)
    assert client.get(f"{GRID}?building={world.building_b.pk}").status_code == 404
    assert client.get(f"{GRID}?household={world.household_b.pk}").status_code == 404
    assert client.post(_grid_url(world.household_b, survey), {"overall": "2"}).status_code == 404
    assert not SurveyResponse.objects.exists()


def test_grid_page_queries_do_not_grow_with_households(
    client: Any, world: Any, staff: Any, grid_worker: Any, django_assert_max_num_queries: Any
) -> None:
    _survey(world, staff)
    client.force_login(grid_worker)
    url = f"{GRID}?building={world.building_a.pk}"
    client.get(url)
    with django_assert_max_num_queries(50) as ctx:
        assert client.get(url).status_code == 200
    one = len(ctx.captured_queries)
    for n in range(8):
        HouseholdFactory(unit=UnitFactory(building=world.building_a), room=f"{n + 2}01")
    with django_assert_max_num_queries(one):
        response = client.get(url)
    assert len(response.context["households"]) == 9
