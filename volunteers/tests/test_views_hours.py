"""My hours and points: every attendance of mine 20 a page, confirmed hours in total and
this year, and the points volunteering earned me in the ledger."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from community.tests.factories import UserFactory
from credit.models import PointsEntry
from credit.services import points_reverse
from volunteers import services
from volunteers.models import Activity, Attendance
from volunteers.selectors.pages import user_confirmed_hours
from volunteers.tests.factories import ActivityFactory, TeamFactory

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
HOURS = "/volunteers/hours/"


def _past(world: Any, *, ago: dt.timedelta, length: dt.timedelta = 2 * HOUR) -> Activity:
    start = timezone.now() - ago
    return cast(
        Activity, ActivityFactory(community=world.home, starts_at=start, ends_at=start + length)
    )


def _attended(
    activity: Activity, user: Any, *, confirmer: Any = None, no_show: bool = False
) -> Attendance:
    """Signed up, then checked in and out (confirmed when `confirmer`), or a no-show."""
    services.activity_signup(activity=activity, user=user, now=activity.starts_at - HOUR)
    if no_show:
        signup = activity.signups.get(user=user)
        actor = confirmer or UserFactory()
        return services.attendance_no_show(signup=signup, actor=actor, now=activity.ends_at)
    services.attendance_check_in(activity=activity, user=user, now=activity.starts_at)
    attendance = services.attendance_check_out(activity=activity, user=user, now=activity.ends_at)
    if confirmer is not None:
        attendance = services.attendance_confirm(
            attendance=attendance, actor=confirmer, now=timezone.now()
        )
    return attendance


def _row(body: str, attendance: Attendance) -> str:
    found = re.search(rf'<div class="list-group-item" id="attendance-{attendance.pk}"[^>]*>', body)
    assert found is not None, f"attendance {attendance.pk} is not on the page"
    return found[0]


def _testid(body: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}">([^<]*)<', body)
    assert found is not None, f"no {name} on the page"
    return found[1].strip()


def test_outsider_gets_404_and_anonymous_visitor_is_sent_to_log_in(
    client: Any, world: Any, outsider: Any
) -> None:
    response = client.get(HOURS)
    assert response.status_code == 302 and "login" in response.url
    client.force_login(outsider)
    assert client.get(HOURS).status_code == 404


def test_page_shows_states_hours_this_year_and_points_earned(
    client: Any, world: Any, resident: Any, staff: Any, standard: None
) -> None:
    confirmed = _attended(_past(world, ago=2 * DAY), resident, confirmer=staff)
    waiting = _attended(_past(world, ago=DAY, length=3 * HOUR), resident)
    missed = _attended(_past(world, ago=3 * DAY), resident, confirmer=staff, no_show=True)
    old = _attended(_past(world, ago=400 * DAY, length=HOUR), resident, confirmer=staff)
    client.force_login(resident)

    response = client.get(HOURS)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-state="confirmed"' in _row(body, confirmed)
    assert 'data-state="waiting"' in _row(body, waiting)
    assert 'data-state="no-show"' in _row(body, missed)
    assert _testid(body, "confirmed-hours") == "3"  # 2 h + 1 h a year and more ago
    assert user_confirmed_hours(user=resident) == Decimal(3)  # the home page's number
    # The 400-day-old hour is last year's (or older); the rest, a few days old, this
    # year's, unless the page is opened in the first days of January.
    if timezone.localtime(missed.activity.starts_at).year == timezone.localtime().year:
        assert Decimal(_testid(body, "year-hours")) == 2
    assert 'data-state="confirmed"' in _row(body, old)
    earned = PointsEntry.objects.filter(credit_account__resident__user=resident)
    award = earned.get(source_id=str(confirmed.pk))
    assert award.amount == 4  # 2 hours at 2 points
    assert f'data-points="{award.amount}"' in _row(body, confirmed)
    assert 'data-points="' not in _row(body, waiting)
    assert int(_testid(body, "volunteer-points")) == sum(e.amount for e in earned)
    assert reverse("credit:points-home") in body


def test_a_reversed_award_no_longer_counts(
    client: Any, world: Any, resident: Any, staff: Any, standard: None
) -> None:
    kept = _attended(_past(world, ago=2 * DAY), resident, confirmer=staff)
    undone = _attended(_past(world, ago=3 * DAY), resident, confirmer=staff)
    award = PointsEntry.objects.get(source_id=str(undone.pk))
    points_reverse(entry=award, now=timezone.now(), actor=staff, reason="wrong activity")
    client.force_login(resident)

    body = client.get(HOURS).content.decode()

    kept_points = PointsEntry.objects.get(source_id=str(kept.pk)).amount
    assert int(_testid(body, "volunteer-points")) == kept_points
    assert 'data-points="0"' in _row(body, undone)


def test_outside_volunteer_sees_hours_without_points(
    client: Any, world: Any, staff: Any, standard: None
) -> None:
    """An in-service party member from a partner unit: a team member, no resident record."""
    member = UserFactory()
    team = TeamFactory(community=world.home)
    services.team_member_add(team=team, actor=staff, user=member, now=timezone.now())
    attended = _attended(_past(world, ago=2 * DAY), member, confirmer=staff)
    client.force_login(member)

    response = client.get(HOURS)

    assert response.status_code == 200
    body = response.content.decode()
    assert _testid(body, "confirmed-hours") == "2"
    assert 'data-testid="volunteer-points"' not in body
    assert 'data-points="' not in _row(body, attended)


def test_only_my_own_attendances_are_listed(
    client: Any, world: Any, resident: Any, staff: Any, standard: None
) -> None:
    activity = _past(world, ago=2 * DAY)
    mine = _attended(activity, resident, confirmer=staff)
    theirs = _attended(activity, UserFactory(), confirmer=staff)
    client.force_login(resident)

    body = client.get(HOURS).content.decode()

    assert f'id="attendance-{mine.pk}"' in body
    assert f'id="attendance-{theirs.pk}"' not in body
    assert _testid(body, "confirmed-hours") == "2"


def test_twenty_a_page_and_the_same_queries_for_one_or_many(
    client: Any,
    world: Any,
    resident: Any,
    staff: Any,
    standard: None,
    django_assert_num_queries: Any,
) -> None:
    client.force_login(resident)
    _attended(_past(world, ago=DAY), resident, confirmer=staff)
    client.get(HOURS)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as one:
        client.get(HOURS)
    for n in range(24):
        _attended(_past(world, ago=(n + 2) * DAY), resident, confirmer=staff)
    with django_assert_num_queries(len(one.captured_queries)):
        first = client.get(HOURS)
    with django_assert_num_queries(len(one.captured_queries)):
        second = client.get(HOURS, {"page": 2})
    assert len(first.context["rows"]) == 20
    assert len(second.context["rows"]) == 5
    assert 'data-testid="next-page"' in first.content.decode()
    newest = first.context["rows"][0].activity_start
    oldest = second.context["rows"][-1].activity_start
    assert newest > oldest
    past_the_end = client.get(HOURS, {"page": 9})
    assert [r.pk for r in past_the_end.context["rows"]] == [r.pk for r in second.context["rows"]]


def test_resident_who_never_volunteered_sees_an_empty_page(
    client: Any, world: Any, resident: Any
) -> None:
    client.force_login(resident)
    response = client.get(HOURS)
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert _testid(response.content.decode(), "confirmed-hours") == "0"


def test_home_links_to_my_hours(client: Any, world: Any, resident: Any) -> None:
    client.force_login(resident)
    body = client.get(reverse("volunteers:home")).content.decode()
    assert f'href="{HOURS}" data-testid="hours-link"' in body
