"""One answer per household under concurrent submissions, on PostgreSQL (SQLite ignores
row locks and serialises writers, so the race cannot happen there).

Two residents of the same household tap "submit" at the same moment: each thread has its
own connection and transaction, both pass every check in Python, and the unique index
survey_one_answer_per_household lets exactly one through.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from community.tests.factories import ResidentFactory, UserFactory
from property_mgmt.models import SurveyResponse
from property_mgmt.services.surveys import survey_answer, survey_create, survey_open
from property_mgmt.tests.factories_surveys import NOW, Q1
from tests.concurrency import all_together, together

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def survey(world: Any, staff: Any) -> Any:
    survey = survey_create(
        actor=staff,
        community=world.home,
        provider=world.property_company,
        estates=[world.estate],
        title="2026年第一季度物业满意度测评",
        period_start=Q1[0],
        period_end=Q1[1],
        now=NOW,
    )
    return survey_open(survey=survey, actor=staff, now=NOW)


def test_two_residents_of_a_household_answering_at_once_leave_one_answer(
    require_postgres: None, world: Any, survey: Any, resident: Any
) -> None:
    spouse = UserFactory(name="张丽")
    ResidentFactory(household=world.household_a, user=spouse, name="张丽")
    people = [resident, spouse]

    def answer(i: int) -> Any:
        return survey_answer(
            survey=survey,
            household=world.household_a,
            actor=people[i],
            overall=5 - i,
            now=NOW,
        )

    results, errors = together(2, answer)
    assert len(results) == 1
    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError)
    # The loser is told the household has answered (threads speak the default language,
    # so the refusal is checked by its code).
    assert errors[0].code == "answered"
    [stored] = SurveyResponse.objects.filter(survey=survey, household=world.household_a)
    assert stored.pk == results[0].pk


def test_a_resident_and_the_grid_worker_at_once_leave_one_answer(
    require_postgres: None, world: Any, survey: Any, resident: Any, grid_worker: Any
) -> None:
    results, errors = all_together(
        [
            lambda: survey_answer(
                survey=survey, household=world.household_a, actor=resident, overall=4, now=NOW
            ),
            lambda: survey_answer(
                survey=survey,
                household=world.household_a,
                actor=grid_worker,
                overall=2,
                now=NOW,
                on_behalf=True,
            ),
        ]
    )
    assert len(results) == 1
    assert [type(e) for e in errors] == [ValidationError]
    assert SurveyResponse.objects.filter(survey=survey, household=world.household_a).count() == 1
