"""The volunteers demo: real rosters, sign-ups, hours and points; idempotent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from community.tests.factories import HouseholdFactory, ResidentFactory, UnitFactory
from credit.models import PointsEntry
from credit.services.reconciliation import ledger_reconciliation
from volunteers.demo import DEMO_NOW, PARTY_MEMBERS, volunteer_demo_build
from volunteers.models import (
    Activity,
    Attendance,
    PartyMemberRegistration,
    Post,
    ServiceRecord,
    SignUp,
    Team,
)
from volunteers.selectors.pages import upcoming_activities, user_confirmed_hours
from volunteers.services import TEN_POSTS

pytestmark = pytest.mark.django_db

LATER = DEMO_NOW + dt.timedelta(days=3)


@pytest.fixture
def demo_world(world: Any, staff: Any, resident: Any, standard: None) -> Any:
    unit = UnitFactory(building=world.building_a)
    for n in range(10):
        ResidentFactory(household=HouseholdFactory(unit=unit), gender="female" if n % 2 else "male")
    return world


def test_builds_teams_posts_party_members_and_a_month(demo_world: Any, resident: Any) -> None:
    made = volunteer_demo_build(community=demo_world.home, upcoming_from=LATER)
    home = demo_world.home
    assert made["posts"] == len(TEN_POSTS) == Post.objects.filter(community=home).count()
    assert made["teams"] == 3
    assert set(Team.objects.filter(community=home).values_list("kind", flat=True)) == {
        Team.Kind.STEWARD,
        Team.Kind.WOMENS_PATROL,
        Team.Kind.SERVICE,
    }
    statuses = list(
        PartyMemberRegistration.objects.filter(community=home).values_list("status", flat=True)
    )
    assert len(statuses) == len(PARTY_MEMBERS) == made["registrations"]
    assert statuses.count(PartyMemberRegistration.Status.PENDING) == 1
    confirmed = PartyMemberRegistration.objects.filter(
        community=home, status=PartyMemberRegistration.Status.CONFIRMED
    )
    assert all(r.post is not None and r.duties for r in confirmed)

    past = Activity.objects.filter(community=home, ends_at__lte=DEMO_NOW)
    kinds = set(past.values_list("kind", flat=True))
    assert kinds == {Activity.Kind.PATROL, Activity.Kind.SERVICE_DAY, Activity.Kind.CLEANUP}
    assert past.count() >= 12
    assert made["activities"] == Activity.objects.filter(community=home).count()
    assert made["signups"] == SignUp.objects.filter(activity__community=home).count() > 0
    confirmed_hours = Attendance.objects.filter(
        activity__community=home, confirmed_at__isnull=False, hours__gt=0
    )
    assert confirmed_hours.count() > 10
    # Hours became points through the ledger, one entry per confirmed attendance.
    assert PointsEntry.objects.filter(idempotency_key__startswith="volunteer-hours:").count() == (
        confirmed_hours.count()
    )
    assert ServiceRecord.objects.filter(activity__community=home).exists()

    # The resident with a login is on a team and sees activities open for sign-up.
    assert Team.objects.filter(community=home, members__user=resident).exists()
    upcoming = list(upcoming_activities(user=resident, now=LATER))
    assert len(upcoming) == 1 and all(a.signed_up_count == 0 for a in upcoming)
    # The next patrol shift is the women's patrol's own: not offered to the resident.
    patrol = Activity.objects.get(community=home, starts_at__gt=LATER, team__kind="womens_patrol")
    assert patrol.audience == Activity.Audience.TEAM and patrol not in upcoming
    assert user_confirmed_hours(user=resident) > Decimal(0)

    assert ledger_reconciliation(full=True).ok


def test_second_run_adds_nothing(demo_world: Any) -> None:
    volunteer_demo_build(community=demo_world.home, upcoming_from=LATER)
    entries = PointsEntry.objects.count()
    again = volunteer_demo_build(community=demo_world.home, upcoming_from=LATER)
    assert set(again.values()) == {0}
    assert PointsEntry.objects.count() == entries
    assert ledger_reconciliation(full=True).ok


def test_community_without_staff_gets_nothing(demo_world: Any) -> None:
    made = volunteer_demo_build(community=demo_world.other, upcoming_from=LATER)
    assert set(made.values()) == {0}
    assert not Team.objects.filter(community=demo_world.other).exists()
