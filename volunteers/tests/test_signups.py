from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from community.tests.factories import UserFactory
from volunteers import services
from volunteers.models import Activity, NoShowBlock, SignUp
from volunteers.selectors import activity_signups, user_signups
from volunteers.tests.factories import HOUR, NOW, ActivityFactory

pytestmark = pytest.mark.django_db

Status = SignUp.Status


def _full(activity: Activity, n: int) -> list[SignUp]:
    return [
        services.activity_signup(activity=activity, user=UserFactory(), now=NOW) for _ in range(n)
    ]


def test_signing_up_takes_a_place_until_full_then_waits_in_order(world: Any) -> None:
    activity = ActivityFactory(community=world.home, capacity=2)
    first, second, third, fourth = _full(activity, 4)
    assert [s.status for s in (first, second)] == [Status.SIGNED_UP] * 2
    assert (third.status, third.position) == (Status.WAITING, 1)
    assert (fourth.status, fourth.position) == (Status.WAITING, 2)
    activity.refresh_from_db()
    assert activity.signed_up_count == 2


def test_signing_up_twice_keeps_the_one_sign_up(world: Any, resident: Any) -> None:
    activity = ActivityFactory(community=world.home)
    first = services.activity_signup(activity=activity, user=resident, now=NOW)
    again = services.activity_signup(activity=activity, user=resident, now=NOW)
    assert again.pk == first.pk
    assert SignUp.objects.filter(activity=activity, user=resident).count() == 1


def test_sign_up_is_refused_when_closed_or_started(world: Any, resident: Any) -> None:
    closed = ActivityFactory(community=world.home, signup_open=False)
    with pytest.raises(ValidationError) as exc:
        services.activity_signup(activity=closed, user=resident, now=NOW)
    assert exc.value.code == "closed"
    started = ActivityFactory(community=world.home)
    with pytest.raises(ValidationError) as exc:
        services.activity_signup(activity=started, user=resident, now=started.starts_at)
    assert exc.value.code == "started"


def test_cancelling_a_place_promotes_the_first_waiting(world: Any) -> None:
    activity = ActivityFactory(community=world.home, capacity=1)
    holder, first_waiting, second_waiting = _full(activity, 3)
    promoted = services.signup_cancel(signup=holder, actor=holder.user, now=NOW)
    assert promoted is not None and promoted.pk == first_waiting.pk
    assert promoted.status == Status.SIGNED_UP and promoted.promoted_at == NOW
    holder.refresh_from_db()
    second_waiting.refresh_from_db()
    assert holder.status == Status.CANCELLED
    assert second_waiting.status == Status.WAITING
    activity.refresh_from_db()
    assert activity.signed_up_count == 1


def test_cancelling_from_the_waiting_list_frees_no_place(world: Any) -> None:
    activity = ActivityFactory(community=world.home, capacity=1)
    _holder, waiting = _full(activity, 2)
    assert services.signup_cancel(signup=waiting, actor=waiting.user, now=NOW) is None
    activity.refresh_from_db()
    assert activity.signed_up_count == 1
    # cancelled, the volunteer may sign up again and joins the end of the list
    again = services.activity_signup(activity=activity, user=waiting.user, now=NOW)
    assert again.status == Status.WAITING and again.pk != waiting.pk


def test_someone_else_may_not_cancel_but_staff_may(world: Any, outsider: Any, staff: Any) -> None:
    activity = ActivityFactory(community=world.home)
    (signup,) = _full(activity, 1)
    with pytest.raises(PermissionDenied):
        services.signup_cancel(signup=signup, actor=outsider, now=NOW)
    services.signup_cancel(signup=signup, actor=staff, now=NOW)
    signup.refresh_from_db()
    assert signup.status == Status.CANCELLED


def test_the_database_refuses_more_signed_up_than_capacity(world: Any) -> None:
    activity = ActivityFactory(community=world.home, capacity=1)
    _full(activity, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.filter(pk=activity.pk).update(signed_up_count=2)


def test_the_database_refuses_a_second_active_sign_up(world: Any, resident: Any) -> None:
    activity = ActivityFactory(community=world.home)
    services.activity_signup(activity=activity, user=resident, now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignUp.objects.create(
            activity=activity, user=resident, status=Status.WAITING, position=9, created_at=NOW
        )


def test_a_blocked_volunteer_cannot_sign_up(world: Any, resident: Any) -> None:
    NoShowBlock.objects.create(user=resident, no_shows=3, blocked_at=NOW - HOUR)
    activity = ActivityFactory(community=world.home)
    with pytest.raises(PermissionDenied):
        services.activity_signup(activity=activity, user=resident, now=NOW)
    assert not SignUp.objects.filter(user=resident).exists()


def test_roster_lists_places_then_waiting_and_only_for_those_who_run_it(
    world: Any, staff: Any, outsider: Any
) -> None:
    activity = ActivityFactory(community=world.home, capacity=1)
    holder, waiting = _full(activity, 2)
    assert list(activity_signups(user=staff, activity=activity)) == [holder, waiting]
    assert list(activity_signups(user=outsider, activity=activity)) == []
    assert list(user_signups(user=waiting.user)) == [waiting]


def test_a_team_activity_takes_only_the_teams_members_and_leader(world: Any, staff: Any) -> None:
    from volunteers.tests.factories import TeamFactory

    leader, member, other = UserFactory(), UserFactory(), UserFactory()
    team = TeamFactory(community=world.home, leader=leader)
    services.team_member_add(team=team, user=member, actor=staff, now=NOW)
    activity = ActivityFactory(community=world.home, team=team, audience=Activity.Audience.TEAM)
    with pytest.raises(PermissionDenied):
        services.activity_signup(activity=activity, user=other, now=NOW)
    for user in (member, leader):
        assert services.activity_signup(activity=activity, user=user, now=NOW).status == (
            Status.SIGNED_UP
        )


def test_a_party_members_activity_takes_only_confirmed_party_members(
    world: Any, staff: Any
) -> None:
    from volunteers.tests.factories import PostFactory

    pending, confirmed = UserFactory(), UserFactory()
    for user in (pending, confirmed):
        registration = services.party_member_register(
            community=world.home,
            name="党员",
            phone="13900000000",
            employer="区税务局",
            party_branch="第一支部",
            user=user,
            now=NOW,
        )
    services.registration_confirm(
        registration=registration,
        post=PostFactory(community=world.home),
        duties="",
        actor=staff,
        now=NOW,
    )
    activity = ActivityFactory(community=world.home, audience=Activity.Audience.PARTY)
    with pytest.raises(PermissionDenied):
        services.activity_signup(activity=activity, user=pending, now=NOW)
    assert services.activity_signup(activity=activity, user=confirmed, now=NOW).status == (
        Status.SIGNED_UP
    )
