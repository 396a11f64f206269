"""The community office on a desktop: create an activity from the calendar, see it in the
month, open the statistics; the same calendar on a phone is a list of days that fits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from community.tests.factories import UserFactory
from tests.e2e.conftest import PHONE, log_in, page_width
from volunteers import services
from volunteers.models import Activity
from volunteers.tests.factories import ActivityFactory, TeamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Browse = Callable[..., Page]
Shot = Callable[..., Path]
DESKTOP_1280: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
HOUR = dt.timedelta(hours=1)


def _finished_shift(world: Any, team: Any, volunteer: Any) -> None:
    """A shift of the team that ended a minute ago, with one volunteer's hours to confirm."""
    end = timezone.now() - dt.timedelta(minutes=1)
    shift = ActivityFactory(
        community=world.home, team=team, title="夜间巡逻", starts_at=end - 2 * HOUR, ends_at=end
    )
    services.activity_signup(activity=shift, user=volunteer, now=shift.starts_at - HOUR)
    services.attendance_check_in(activity=shift, user=volunteer, now=shift.starts_at)
    services.attendance_check_out(activity=shift, user=volunteer, now=end)


def test_staff_create_an_activity_in_the_calendar_and_read_the_statistics_on_a_desktop(
    browse: Browse, screenshot: Shot, staff: Any, world: Any
) -> None:
    team = TeamFactory(community=world.home, name="平安巡逻队", leader=UserFactory(name="赵队长"))
    services.team_member_add(
        team=team,
        actor=staff,
        now=timezone.now(),
        name="钱党员",
        phone="13912345678",
        employer="区税务局",
        party_branch="第二党支部",
    )
    _finished_shift(world, team, UserFactory(name="孙志愿", phone="13700001234"))
    day = timezone.localdate() + dt.timedelta(days=3)

    office = browse(**DESKTOP_1280)
    log_in(office, staff.phone)
    office.goto("/volunteers/office/")
    expect(office.locator('[data-testid="headcount-teams"]')).to_have_text("1")
    expect(office.locator('[data-testid="todo-confirmations"]')).to_have_text("1")
    screenshot(office, "home")

    # The calendar: the day's "+" opens the form with the day filled in.
    office.goto(f"/volunteers/office/calendar/?month={day:%Y-%m}")
    expect(office.locator('[data-testid="month-grid"]')).to_be_visible()
    with office.expect_navigation():
        office.locator(f'td[data-date="{day:%Y-%m-%d}"] a[href*="date="]').click()
    form = office.locator('[data-testid="activity-form"]')
    expect(form.locator("#id_starts_at")).to_have_value(f"{day:%Y-%m-%d}T09:00")
    form.locator("#id_title").fill("周末楼道清理")
    form.locator("#id_kind").select_option(Activity.Kind.CLEANUP.value)
    form.locator("#id_place").fill("3号楼楼道")
    form.locator("#id_starts_at").fill(f"{day:%Y-%m-%d}T14:00")
    form.locator("#id_ends_at").fill(f"{day:%Y-%m-%d}T16:30")
    form.locator("#id_team").select_option(str(team.pk))
    form.locator("#id_capacity").fill("12")
    form.locator("#id_audience").select_option(Activity.Audience.TEAM.value)
    screenshot(office, "form")
    with office.expect_navigation():
        form.locator("button[type=submit]").click()

    # Back on the month: the new activity sits on its day and leads to the leader page.
    activity = Activity.objects.get(title="周末楼道清理")
    assert activity.team_id == team.pk and activity.capacity == 12
    assert timezone.localtime(activity.starts_at).hour == 14
    expect(office.locator(".alert-success")).to_be_visible()
    cell = office.locator(f'td[data-date="{day:%Y-%m-%d}"]')
    expect(cell.locator(f'[data-activity="{activity.pk}"]')).to_contain_text("周末楼道清理")
    assert page_width(office) <= 1280
    screenshot(office, "month")

    # The statistics of the year.
    with office.expect_navigation():
        office.locator('[data-testid="office-tabs"] a[href*="/statistics/"]').click()
    expect(office.locator('[data-testid="by-month"] tbody tr')).to_have_count(12)
    expect(office.locator('[data-testid="headcount"]')).to_be_visible()
    assert page_width(office) <= 1280
    screenshot(office, "statistics")

    # The roster and the confirmations to do (phones masked).
    office.goto(f"/volunteers/office/teams/{team.pk}/")
    expect(office.locator('[data-testid="roster"]')).to_contain_text("139****5678")
    screenshot(office, "roster")
    office.goto("/volunteers/office/confirmations/")
    expect(office.locator('[data-testid="confirmations"]')).to_contain_text("137****1234")
    screenshot(office, "confirmations")

    # The same calendar on a phone: a list of days, no sideways scrolling.
    phone = browse(**PHONE)
    log_in(phone, staff.phone)
    phone.goto(f"/volunteers/office/calendar/?month={day:%Y-%m}")
    expect(
        phone.locator(f'[data-testid="day-list"] [data-activity="{activity.pk}"]')
    ).to_be_visible()
    expect(phone.locator('[data-testid="month-grid"]')).to_be_hidden()
    assert page_width(phone) <= 375
    screenshot(phone, "phone-calendar")
    for step, path in (
        ("phone-roster", f"/volunteers/office/teams/{team.pk}/"),
        ("phone-confirmations", "/volunteers/office/confirmations/"),
        ("phone-statistics", "/volunteers/office/statistics/"),
    ):
        phone.goto(path)
        assert page_width(phone) <= 375, step
        screenshot(phone, step)
