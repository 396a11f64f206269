"""The volunteer journey on phones: sign up, check in and out by the QR code's link, the
leader corrects and confirms the hours, the volunteer sees the hours and the points.

The activity is made around the real clock: it starts in twenty minutes, so sign-up is
still open and check-in (from thirty minutes before the start) already is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from community.tests.factories import UserFactory
from credit.models import PointsAccount
from credit.services import standard_install
from tests.e2e.conftest import PHONE, log_in, page_width
from volunteers.models import Attendance, SignUp
from volunteers.tests.factories import ActivityFactory, TeamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Browse = Callable[..., Page]
Shot = Callable[..., Path]


def test_volunteer_signs_up_checks_in_and_out_and_leader_confirms_on_phones(
    browse: Browse, screenshot: Shot, resident: Any, world: Any
) -> None:
    standard_install(street=world.street, valid_from=dt.date(2026, 1, 1))
    leader = UserFactory(name="赵队长")
    start = timezone.now() + dt.timedelta(minutes=20)
    activity = ActivityFactory(
        community=world.home,
        team=TeamFactory(community=world.home, leader=leader, name="便民服务队"),
        title="周六便民理发",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=3,
    )

    # The volunteer: the activity on the home page, sign up.
    me = browse(**PHONE)
    log_in(me, resident.phone)
    me.goto("/volunteers/")
    card = me.locator(f"#activity-{activity.pk}")
    expect(card).to_contain_text("周六便民理发")
    assert page_width(me) <= 375
    screenshot(me, "upcoming")
    with me.expect_navigation():
        card.locator("button[type=submit]").click()
    expect(me.locator(".alert-success")).to_contain_text("周六便民理发")
    expect(me.locator('[data-testid="shifts"]')).to_contain_text("周六便民理发")
    assert SignUp.objects.get(user=resident).status == SignUp.Status.SIGNED_UP
    screenshot(me, "signed-up")

    # The leader: the activity page shows the QR code and its link.
    lead = browse(**PHONE)
    log_in(lead, leader.phone)
    lead.goto(f"/volunteers/activities/{activity.pk}/run/")
    lead.locator("details summary").click()
    expect(lead.locator('[data-testid="qr"] svg')).to_be_visible()
    link = lead.locator('[data-testid="checkin-link"]').inner_text().strip()
    screenshot(lead, "qr")

    # The volunteer opens the QR code's link: a big check-in button, then check-out.
    me.goto(link)
    with me.expect_navigation():
        me.locator("input[name=direction][value=in] ~ button").click()
    expect(me.locator(".alert-success")).to_be_visible()
    assert page_width(me) <= 375
    screenshot(me, "checked-in")
    with me.expect_navigation():
        me.locator("input[name=direction][value=out] ~ button").click()
    expect(me.locator('[data-testid="checked-out-at"]')).to_be_visible()
    attendance = Attendance.objects.get(user=resident)
    assert attendance.checked_out_at is not None
    screenshot(me, "checked-out")

    # The leader: the service started in twenty minutes, so the counted time is nil;
    # the leader corrects it to the two hours served, then confirms.
    lead.reload()
    row = lead.locator(f"#signup-{attendance.signup_id}")
    row.locator('input[name="hours"]').fill("2")
    with lead.expect_navigation():
        row.locator('[data-action="correct"] button').click()
    with lead.expect_navigation():
        lead.locator(f"#signup-{attendance.signup_id} [data-action=confirm] button").click()
    expect(lead.locator(".alert-success")).to_be_visible()
    expect(lead.locator(f"#signup-{attendance.signup_id}")).to_have_attribute(
        "data-state", "confirmed"
    )
    screenshot(lead, "confirmed")
    attendance.refresh_from_db()
    assert attendance.confirmed_by_id == leader.pk

    # The volunteer sees the hours, and the points in the history.
    me.goto("/volunteers/")
    expect(me.locator('[data-testid="confirmed-hours"]')).to_have_text("2")
    expect(me.locator(f"#attendance-{attendance.pk}")).to_contain_text("2")
    screenshot(me, "hours")
    with me.expect_navigation():
        me.locator('[data-testid="points-link"]').click()
    expect(me.locator('[data-testid="balance"]')).to_have_text("4")
    expect(me.locator("main")).to_contain_text("志愿服务时长")
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 4
    screenshot(me, "points")
