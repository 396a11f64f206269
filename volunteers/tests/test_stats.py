"""The community's volunteering statistics: hours per team, month and post in one query."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from community.tests.factories import UserFactory
from volunteers import services
from volunteers.models import Activity
from volunteers.selectors.stats import headcount, hours_statistics
from volunteers.tests.factories import ActivityFactory, PostFactory, TeamFactory

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def _served(activity: Activity, user: Any, confirmer: Any, *, hours: int | None = None) -> None:
    services.activity_signup(activity=activity, user=user, now=activity.starts_at - HOUR)
    services.attendance_check_in(activity=activity, user=user, now=activity.starts_at)
    services.attendance_check_out(activity=activity, user=user, now=activity.ends_at)
    attendance = activity.attendances.get(user=user)
    if hours is not None:
        services.attendance_correct(
            attendance=attendance, hours=Decimal(hours), actor=confirmer, now=activity.ends_at
        )
    services.attendance_confirm(attendance=attendance, actor=confirmer, now=activity.ends_at)


def test_hours_per_team_month_and_post_in_one_query(
    world: Any, staff: Any, standard: None, django_assert_num_queries: Any
) -> None:
    patrol = TeamFactory(community=world.home, name="巡逻队")
    post = PostFactory(community=world.home, name="治安巡逻")
    # 31 Jan 23:00 in Shanghai is still January there although it is 15:00 UTC.
    january = dt.datetime(2026, 1, 31, 15, 0, tzinfo=dt.UTC)
    march = dt.datetime(2026, 3, 7, 1, 0, tzinfo=dt.UTC)
    a = ActivityFactory(
        community=world.home, team=patrol, post=post, starts_at=january, ends_at=january + 2 * HOUR
    )
    b = ActivityFactory(community=world.home, starts_at=march, ends_at=march + 3 * HOUR)
    last_year = ActivityFactory(
        community=world.home,
        starts_at=january - dt.timedelta(days=60),
        ends_at=january - dt.timedelta(days=60) + HOUR,
    )
    elsewhere = ActivityFactory(starts_at=march, ends_at=march + HOUR)
    one, two = UserFactory(), UserFactory()
    _served(a, one, staff)
    _served(a, two, staff, hours=1)  # the leader's correction counts
    _served(b, one, staff)
    _served(last_year, one, staff)
    services.activity_signup(activity=elsewhere, user=two, now=march - HOUR)
    unconfirmed = ActivityFactory(community=world.home, starts_at=march, ends_at=march + HOUR)
    services.activity_signup(activity=unconfirmed, user=two, now=march - HOUR)
    services.attendance_check_in(activity=unconfirmed, user=two, now=march)

    staff._linli_scope = None  # a fresh request: its staff check reads the scope once
    with django_assert_num_queries(2):  # the staff check (the scope) and the one aggregate
        stats = hours_statistics(user=staff, community=world.home, year=2026)
    assert stats is not None
    assert stats.total_hours == Decimal(6) and stats.total_attendances == 3
    assert stats.by_team == [("", Decimal(3), 1), ("巡逻队", Decimal(3), 2)]
    assert stats.by_post == [("", Decimal(3), 1), ("治安巡逻", Decimal(3), 2)]
    months = {m: h for m, h, _n in stats.by_month}
    assert months[1] == Decimal(3) and months[3] == Decimal(3) and months[2] == Decimal(0)


def test_statistics_are_for_the_communitys_staff_only(
    world: Any, resident: Any, outsider: Any, staff: Any
) -> None:
    for user in (resident, outsider):
        assert hours_statistics(user=user, community=world.home, year=2026) is None
        assert headcount(user=user, community=world.home, now=dt.datetime.now(dt.UTC)) is None
    counted = headcount(user=staff, community=world.home, now=dt.datetime.now(dt.UTC))
    assert counted is not None and counted.members == 0
