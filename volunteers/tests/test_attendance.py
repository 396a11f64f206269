from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from community.tests.factories import UserFactory
from credit.models import PointsAccount, PointsEntry
from volunteers import services
from volunteers.models import Activity, Attendance, NoShowBlock, SignUp
from volunteers.tests.factories import HOUR, NOW, ActivityFactory, TeamFactory

pytestmark = pytest.mark.django_db

MINUTE = HOUR / 60


def _signed_up(activity: Activity, user: Any) -> SignUp:
    return services.activity_signup(activity=activity, user=user, now=NOW)


def _attended(activity: Activity, user: Any, hours: int = 2) -> Attendance:
    _signed_up(activity, user)
    services.attendance_check_in(activity=activity, user=user, now=activity.starts_at)
    return services.attendance_check_out(
        activity=activity, user=user, now=activity.starts_at + hours * HOUR
    )


def _balance(world: Any) -> int:
    account = PointsAccount.objects.filter(resident=world.resident_a).first()
    return account.balance if account else 0


def test_check_in_opens_shortly_before_the_start_and_closes_at_the_end(
    world: Any, resident: Any
) -> None:
    activity = ActivityFactory(community=world.home, checkin_opens_minutes=30)
    _signed_up(activity, resident)
    for too_early_or_late in (activity.starts_at - 31 * MINUTE, activity.ends_at + MINUTE):
        with pytest.raises(ValidationError) as exc:
            services.attendance_check_in(activity=activity, user=resident, now=too_early_or_late)
        assert exc.value.code == "window"
    attendance = services.attendance_check_in(
        activity=activity, user=resident, now=activity.starts_at - 30 * MINUTE
    )
    assert attendance.checked_in_at == activity.starts_at - 30 * MINUTE


def test_only_a_signed_up_volunteer_checks_in(world: Any, resident: Any) -> None:
    activity = ActivityFactory(community=world.home)
    with pytest.raises(ValidationError) as exc:
        services.attendance_check_in(activity=activity, user=resident, now=activity.starts_at)
    assert exc.value.code == "not_signed_up"


def test_hours_count_the_activity_time_between_check_in_and_out(world: Any, resident: Any) -> None:
    activity = ActivityFactory(community=world.home)
    _signed_up(activity, resident)
    # early for the briefing: the hours start with the activity
    services.attendance_check_in(
        activity=activity, user=resident, now=activity.starts_at - 20 * MINUTE
    )
    attendance = services.attendance_check_out(
        activity=activity, user=resident, now=activity.starts_at + 90 * MINUTE
    )
    assert attendance.hours == Decimal("1.50")


def test_check_out_closes_after_the_window(world: Any, resident: Any) -> None:
    activity = ActivityFactory(community=world.home, checkout_closes_minutes=60)
    _signed_up(activity, resident)
    services.attendance_check_in(activity=activity, user=resident, now=activity.starts_at)
    with pytest.raises(ValidationError) as exc:
        services.attendance_check_out(
            activity=activity, user=resident, now=activity.ends_at + 61 * MINUTE
        )
    assert exc.value.code == "window"


def test_confirming_hours_awards_points_per_hour_once(
    world: Any, resident: Any, staff: Any, standard: None
) -> None:
    activity = ActivityFactory(community=world.home)
    attendance = _attended(activity, resident, hours=2)
    services.attendance_confirm(attendance=attendance, actor=staff, now=activity.ends_at)
    services.attendance_confirm(attendance=attendance, actor=staff, now=activity.ends_at)
    entry = PointsEntry.objects.get(idempotency_key=f"volunteer-hours:{attendance.pk}")
    assert entry.rule is not None and entry.rule.code == "volunteer-hour"
    assert entry.amount == 4  # 2 points an hour in the default standard
    assert _balance(world) == 4
    attendance.refresh_from_db()
    assert attendance.confirmed_by == staff


def test_the_leaders_correction_is_what_counts(
    world: Any, resident: Any, staff: Any, standard: None
) -> None:
    leader = UserFactory()
    activity = ActivityFactory(
        community=world.home, team=TeamFactory(community=world.home, leader=leader)
    )
    attendance = _attended(activity, resident, hours=2)
    services.attendance_correct(
        attendance=attendance, hours=Decimal("3"), actor=leader, now=activity.ends_at
    )
    services.attendance_confirm(attendance=attendance, actor=staff, now=activity.ends_at)
    assert _balance(world) == 6


def test_the_volunteer_never_confirms_their_own_hours(
    world: Any, resident: Any, standard: None
) -> None:
    activity = ActivityFactory(
        community=world.home, team=TeamFactory(community=world.home, leader=resident)
    )
    attendance = _attended(activity, resident)
    with pytest.raises(PermissionDenied):
        services.attendance_confirm(attendance=attendance, actor=resident, now=activity.ends_at)
    assert _balance(world) == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.filter(pk=attendance.pk).update(
            confirmed_by=resident, confirmed_at=activity.ends_at
        )


def test_an_outsider_may_not_confirm(world: Any, resident: Any, outsider: Any) -> None:
    activity = ActivityFactory(community=world.home)
    attendance = _attended(activity, resident)
    with pytest.raises(PermissionDenied):
        services.attendance_confirm(attendance=attendance, actor=outsider, now=activity.ends_at)
    attendance.refresh_from_db()
    assert attendance.confirmed_at is None


def test_hours_of_a_volunteer_without_a_resident_record_are_confirmed_without_points(
    world: Any, staff: Any, standard: None
) -> None:
    party_member = UserFactory()
    activity = ActivityFactory(community=world.home)
    attendance = _attended(activity, party_member)
    services.attendance_confirm(attendance=attendance, actor=staff, now=activity.ends_at)
    attendance.refresh_from_db()
    assert attendance.confirmed_at == activity.ends_at
    assert not PointsEntry.objects.filter(idempotency_key__startswith="volunteer-hours:").exists()


def test_no_shows_block_sign_up_at_the_limit_until_staff_lift_it(
    world: Any, resident: Any, staff: Any, settings: Any
) -> None:
    settings.LINLI_VOLUNTEER_NO_SHOW_LIMIT = 2
    missed = [ActivityFactory(community=world.home) for _ in range(2)]
    for activity in missed:
        signup = _signed_up(activity, resident)
        services.attendance_no_show(signup=signup, actor=staff, now=activity.ends_at)
    block = NoShowBlock.objects.get(user=resident, lifted_at__isnull=True)
    assert block.no_shows == 2
    nxt = ActivityFactory(community=world.home)
    with pytest.raises(PermissionDenied):
        services.activity_signup(activity=nxt, user=resident, now=NOW)

    with pytest.raises(PermissionDenied):
        services.no_show_block_lift(block=block, actor=resident, now=NOW)
    services.no_show_block_lift(block=block, actor=staff, now=NOW + 5 * HOUR)
    later = ActivityFactory(community=world.home, starts_at=NOW + 6 * HOUR, ends_at=NOW + 7 * HOUR)
    signup = services.activity_signup(activity=later, user=resident, now=NOW + 5 * HOUR)
    assert signup.status == SignUp.Status.SIGNED_UP
    # the no-shows before the lift no longer count: one more does not block again
    services.attendance_no_show(signup=signup, actor=staff, now=later.ends_at)
    assert not NoShowBlock.objects.filter(user=resident, lifted_at__isnull=True).exists()


def test_a_no_show_is_recorded_only_after_the_end_and_not_for_who_came(
    world: Any, resident: Any, staff: Any
) -> None:
    activity = ActivityFactory(community=world.home)
    signup = _signed_up(activity, resident)
    with pytest.raises(ValidationError) as exc:
        services.attendance_no_show(signup=signup, actor=staff, now=activity.starts_at)
    assert exc.value.code == "not_ended"
    services.attendance_check_in(activity=activity, user=resident, now=activity.starts_at)
    with pytest.raises(ValidationError) as exc:
        services.attendance_no_show(signup=signup, actor=staff, now=activity.ends_at)
    assert exc.value.code == "checked_in"
