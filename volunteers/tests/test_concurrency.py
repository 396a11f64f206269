"""Sign-ups and confirmations under concurrent load, on PostgreSQL (SQLite ignores row locks).

Each test releases N threads at once through a barrier; each thread has its own database
connection and its own transaction, as N phones tapping "sign up" at once would.
"""

from __future__ import annotations

from typing import Any

import pytest

from community.tests.factories import UserFactory
from credit.models import PointsAccount, PointsEntry
from tests.concurrency import together
from volunteers import services
from volunteers.models import Activity, SignUp
from volunteers.tests.factories import HOUR, NOW, ActivityFactory, TeamFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _signup(activity: Activity, user: Any) -> SignUp:
    return services.activity_signup(activity=activity, user=user, now=NOW)


def test_thirty_sign_ups_for_five_places_fill_five_and_queue_twenty_five(
    require_postgres: None, world: Any
) -> None:
    activity = ActivityFactory(community=world.home, capacity=5)
    users = [UserFactory() for _ in range(30)]
    results, errors = together(30, lambda i: _signup(activity, users[i]))
    assert errors == []
    assert len(results) == 30
    signed = SignUp.objects.filter(activity=activity, status=SignUp.Status.SIGNED_UP)
    waiting = SignUp.objects.filter(activity=activity, status=SignUp.Status.WAITING)
    assert signed.count() == 5
    assert sorted(p or 0 for p in waiting.values_list("position", flat=True)) == list(range(1, 26))
    activity.refresh_from_db()
    assert activity.signed_up_count == 5


def test_the_same_volunteer_twice_at_once_gets_one_sign_up(
    require_postgres: None, world: Any, resident: Any
) -> None:
    activity = ActivityFactory(community=world.home, capacity=5)
    results, errors = together(2, lambda i: _signup(activity, resident))
    assert errors == []
    assert {s.pk for s in results} == {SignUp.objects.get(activity=activity, user=resident).pk}
    activity.refresh_from_db()
    assert activity.signed_up_count == 1


def test_confirming_the_same_hours_twice_at_once_awards_points_once(
    require_postgres: None, world: Any, resident: Any, staff: Any, standard: None
) -> None:
    leader = UserFactory()
    activity = ActivityFactory(
        community=world.home, team=TeamFactory(community=world.home, leader=leader)
    )
    _signup(activity, resident)
    services.attendance_check_in(activity=activity, user=resident, now=activity.starts_at)
    attendance = services.attendance_check_out(
        activity=activity, user=resident, now=activity.starts_at + 2 * HOUR
    )
    confirmers = [staff, leader]  # the leader and the office confirm at the same moment
    results, errors = together(
        2,
        lambda i: services.attendance_confirm(
            attendance=attendance, actor=confirmers[i], now=activity.ends_at
        ),
    )
    assert errors == []
    assert len(results) == 2
    assert (
        PointsEntry.objects.filter(idempotency_key=f"volunteer-hours:{attendance.pk}").count() == 1
    )
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 4
