"""Admin of the SLA engine: who may read and change policies, the calendar, clocks, events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

import grievances.sla.admin  # noqa: F401  (registered through grievances/admin.py as well)
from community.tests.factories import UserFactory
from grievances.models import CalendarDay, SlaClock
from grievances.sla.policies import POLICY_1715, sla_policies_install
from grievances.tests.factories_sla import (
    SlaCategoryFactory,
    SlaClockSpecFactory,
    SlaGrievanceFactory,
    running_clock,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def clocks_in_both_communities(world: Any) -> tuple[SlaClock, SlaClock]:
    spec = SlaClockSpecFactory()
    category = SlaCategoryFactory(sla_policy=spec.policy)
    mine = SlaGrievanceFactory(community=world.home, category=category, title="本社区漏水")
    theirs = SlaGrievanceFactory(community=world.other, category=category, title="邻社区漏水")
    return (
        running_clock(mine, spec, started_at=T0),
        running_clock(theirs, spec, started_at=T0),
    )


def test_staff_see_the_clocks_of_their_own_community_only(world: Any, staff: Any) -> None:
    clocks_in_both_communities(world)
    page = client_for(staff).get("/admin/grievances/slaclock/")
    assert page.status_code == 200
    assert "本社区漏水" in page.content.decode()
    assert "邻社区漏水" not in page.content.decode()


def test_clocks_and_events_are_read_only(world: Any) -> None:
    mine, _theirs = clocks_in_both_communities(world)
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = client_for(admin)
    assert client.get(f"/admin/grievances/slaclock/{mine.pk}/change/").status_code == 200
    assert client.get("/admin/grievances/slaclock/add/").status_code == 403
    assert client.get("/admin/grievances/slaevent/").status_code == 200
    client.post(f"/admin/grievances/slaclock/{mine.pk}/delete/", {"post": "yes"})
    assert SlaClock.objects.filter(pk=mine.pk).exists()


def test_staff_read_the_policies_but_only_a_superuser_changes_them(world: Any, staff: Any) -> None:
    policy = sla_policies_install()[POLICY_1715]
    url = f"/admin/grievances/slapolicy/{policy.pk}/change/"
    page = client_for(staff).get(url)
    assert page.status_code == 200
    assert "1715" in page.content.decode()
    response = client_for(staff).post(url, {"code": "1715", "name": "改掉"})
    assert response.status_code == 403
    admin = UserFactory(is_staff=True, is_superuser=True)
    assert client_for(admin).get(url).status_code == 200


def test_staff_enter_a_holiday_in_the_calendar(world: Any, staff: Any) -> None:
    response = client_for(staff).post(
        "/admin/grievances/calendarday/add/",
        {"date": "2031-01-01", "is_workday": "", "name": "元旦"},
    )
    assert response.status_code == 302
    day = CalendarDay.objects.get(date=dt.date(2031, 1, 1))
    assert (day.is_workday, day.name) == (False, "元旦")


def test_the_outsider_sees_no_sla_admin(world: Any, outsider: Any) -> None:
    outsider.is_staff = True
    outsider.save(update_fields=["is_staff"])
    client = client_for(outsider)
    for model in ("slaclock", "slaevent", "slapolicy", "calendarday"):
        assert client.get(f"/admin/grievances/{model}/").status_code == 403
