"""Creating activities: who may, what is checked, and who the history says acted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.tests.factories import UserFactory
from volunteers.models import Activity
from volunteers.services.activities import activity_create
from volunteers.tests.factories import NOW, PostFactory, TeamFactory

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def _create(community: Any, actor: Any, **overrides: Any) -> Activity:
    fields: dict[str, Any] = {
        "title": "周六便民理发",
        "kind": Activity.Kind.SERVICE_DAY,
        "place": "社区广场",
        "starts_at": NOW + 24 * HOUR,
        "ends_at": NOW + 26 * HOUR,
        "capacity": 6,
    }
    fields.update(overrides)
    return activity_create(community=community, actor=actor, now=NOW, **fields)


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(exc.value.message_dict)


def test_staff_create_an_activity_and_the_history_names_them(world: Any, staff: Any) -> None:
    team = TeamFactory(community=world.home)
    post = PostFactory(community=world.home)
    activity = _create(world.home, staff, team=team, post=post, audience="team", signup_open=False)
    activity.refresh_from_db()
    assert (activity.community, activity.team, activity.post) == (world.home, team, post)
    assert activity.audience == Activity.Audience.TEAM
    assert activity.signup_open is False
    assert activity.signed_up_count == 0
    assert activity.history.get().history_user == staff


def test_a_leader_creates_activities_for_their_own_team_only(world: Any) -> None:
    leader = UserFactory()
    own = TeamFactory(community=world.home, leader=leader)
    activity = _create(world.home, leader, team=own)
    assert activity.team == own
    with pytest.raises(PermissionDenied):
        _create(world.home, leader, team=TeamFactory(community=world.home))
    with pytest.raises(PermissionDenied):
        _create(world.home, leader)  # no team: the office's to make
    assert Activity.objects.count() == 1


def test_outsiders_residents_and_staff_of_another_community_are_refused(
    world: Any, outsider: Any, resident: Any, staff: Any
) -> None:
    for actor in (outsider, resident, staff):
        with pytest.raises(PermissionDenied):
            _create(world.other, actor)
    assert not Activity.objects.exists()


def test_times_must_be_in_order_and_in_the_future(world: Any, staff: Any) -> None:
    with pytest.raises(ValidationError) as backwards:
        _create(world.home, staff, starts_at=NOW + 3 * HOUR, ends_at=NOW + 2 * HOUR)
    assert _errors(backwards) == {"ends_at"}
    with pytest.raises(ValidationError) as same:
        _create(world.home, staff, starts_at=NOW + 3 * HOUR, ends_at=NOW + 3 * HOUR)
    assert _errors(same) == {"ends_at"}
    with pytest.raises(ValidationError) as past:
        _create(world.home, staff, starts_at=NOW - HOUR, ends_at=NOW + HOUR)
    assert _errors(past) == {"starts_at"}
    assert not Activity.objects.exists()


def test_capacity_title_place_kind_and_audience_are_checked(world: Any, staff: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(world.home, staff, capacity=0, title=" ", place="", kind="party", audience="all")
    assert _errors(exc) == {"capacity", "title", "place", "kind", "audience"}
    assert not Activity.objects.exists()


def test_team_and_post_must_be_the_communitys_own(world: Any, staff: Any) -> None:
    foreign_team = TeamFactory(community=world.other)
    foreign_post = PostFactory(community=world.other)
    with pytest.raises(ValidationError) as exc:
        _create(world.home, staff, team=foreign_team, post=foreign_post)
    assert _errors(exc) == {"team", "post"}
    assert not Activity.objects.exists()


def test_a_team_audience_needs_a_team(world: Any, staff: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(world.home, staff, audience=Activity.Audience.TEAM)
    assert _errors(exc) == {"team"}
    party = _create(world.home, staff, audience=Activity.Audience.PARTY)
    assert party.audience == Activity.Audience.PARTY
