"""The leader's activity page: roster and check-in state, the QR code and the printable
sign-in sheet, correcting and confirming hours (never one's own), no-shows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import pytest
from django.urls import reverse
from django.utils import timezone

from community.tests.factories import UserFactory
from credit.models import PointsAccount
from volunteers import services
from volunteers.models import Activity, Attendance, SignUp
from volunteers.tests.factories import ActivityFactory, TeamFactory
from volunteers.views.checkin import checkin_path

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def leader(world: Any) -> Any:
    return UserFactory(name="赵队长", phone="13912345678")


def _finished(world: Any, leader: Any, *volunteers: Any, hours: int = 2) -> Activity:
    """An activity of the leader's team that ended a minute ago; every volunteer came."""
    end = timezone.now() - dt.timedelta(minutes=1)
    activity = ActivityFactory(
        community=world.home,
        team=TeamFactory(community=world.home, leader=leader),
        starts_at=end - hours * HOUR,
        ends_at=end,
    )
    for user in volunteers:
        services.activity_signup(activity=activity, user=user, now=activity.starts_at - HOUR)
        services.attendance_check_in(activity=activity, user=user, now=activity.starts_at)
        services.attendance_check_out(activity=activity, user=user, now=end)
    return cast(Activity, activity)


def _action(activity: Activity, name: str) -> str:
    return reverse("volunteers:activity-action", args=[activity.pk, name])


def _texts(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_outsider_and_volunteers_are_denied_the_leader_pages(
    client: Any, world: Any, leader: Any, resident: Any, outsider: Any
) -> None:
    activity = _finished(world, leader, resident)
    attendance = Attendance.objects.get()
    for user in (outsider, resident):
        client.force_login(user)
        assert client.get(reverse("volunteers:activity", args=[activity.pk])).status_code == 404
        assert client.get(reverse("volunteers:sheet", args=[activity.pk])).status_code == 404
        response = client.post(_action(activity, "confirm"), {"attendance": attendance.pk})
        assert response.status_code == 404
    attendance.refresh_from_db()
    assert attendance.confirmed_at is None


def test_staff_of_another_community_are_denied(client: Any, world: Any, leader: Any) -> None:
    from community.models import Membership
    from community.tests.factories import MembershipFactory

    elsewhere = UserFactory()
    MembershipFactory(user=elsewhere, role=Membership.Role.COMMUNITY_STAFF, community=world.other)
    activity = _finished(world, leader)
    client.force_login(elsewhere)
    assert client.get(reverse("volunteers:activity", args=[activity.pk])).status_code == 404


def test_leader_sees_the_roster_check_in_state_and_the_qr_code(
    client: Any, world: Any, leader: Any, resident: Any
) -> None:
    start = timezone.now() + HOUR
    activity = ActivityFactory(
        community=world.home,
        team=TeamFactory(community=world.home, leader=leader),
        starts_at=start,
        ends_at=start + HOUR,
        capacity=1,
    )
    services.activity_signup(activity=activity, user=resident, now=timezone.now())
    late = UserFactory(name="钱晚到")
    services.activity_signup(activity=activity, user=late, now=timezone.now())
    client.force_login(leader)
    response = client.get(reverse("volunteers:activity", args=[activity.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and checkin_path(activity.pk) in body
    statuses = [s.status for s, _t in response.context["rows"]]
    assert statuses == [SignUp.Status.SIGNED_UP, SignUp.Status.WAITING]
    assert "钱晚到" in body
    # the leader's list on the volunteer home leads here
    home = client.get("/volunteers/")
    assert home.status_code == 200
    assert reverse("volunteers:activity", args=[activity.pk]) in home.content.decode()


def test_sign_in_sheet_has_the_qr_code_and_masked_phones(
    client: Any, world: Any, leader: Any
) -> None:
    volunteer = UserFactory(name="孙志愿", phone="13700001234")
    activity = _finished(world, leader, volunteer)
    client.force_login(leader)
    response = client.get(reverse("volunteers:sheet", args=[activity.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body and "孙志愿" in body
    assert "137****1234" in body and "13700001234" not in body


def test_leader_confirms_hours_on_the_page_and_points_are_awarded(
    client: Any, world: Any, leader: Any, resident: Any, standard: None
) -> None:
    activity = _finished(world, leader, resident, hours=2)
    attendance = Attendance.objects.get()
    client.force_login(leader)
    response = client.post(_action(activity, "confirm"), {"attendance": attendance.pk}, follow=True)
    assert response.status_code == 200
    attendance.refresh_from_db()
    assert attendance.confirmed_by == leader
    account = PointsAccount.objects.get(resident=world.resident_a)
    assert account.balance == 4  # two hours at two points an hour
    client.force_login(resident)
    points = client.get(reverse("credit:points-home"))
    assert "志愿服务时长" in points.content.decode()


def test_the_leader_cannot_confirm_their_own_hours_on_the_page(
    client: Any, world: Any, leader: Any
) -> None:
    activity = _finished(world, leader, leader)
    attendance = Attendance.objects.get()
    client.force_login(leader)
    response = client.post(_action(activity, "confirm"), {"attendance": attendance.pk}, follow=True)
    assert response.status_code == 200
    assert _texts(response)  # the refusal is a message, not an error page
    attendance.refresh_from_db()
    assert attendance.confirmed_at is None


def test_leader_corrects_hours_before_confirming(
    client: Any, world: Any, leader: Any, resident: Any
) -> None:
    activity = _finished(world, leader, resident, hours=2)
    attendance = Attendance.objects.get()
    client.force_login(leader)
    client.post(_action(activity, "correct"), {"attendance": attendance.pk, "hours": "1.5"})
    attendance.refresh_from_db()
    assert attendance.corrected_hours == Decimal("1.50")
    assert attendance.counted_hours == Decimal("1.50")
    response = client.post(
        _action(activity, "correct"), {"attendance": attendance.pk, "hours": "lots"}, follow=True
    )
    assert response.status_code == 200 and _texts(response)
    attendance.refresh_from_db()
    assert attendance.corrected_hours == Decimal("1.50")


def test_leader_records_a_no_show(client: Any, world: Any, leader: Any) -> None:
    absent = UserFactory()
    activity = _finished(world, leader)
    signup = services.activity_signup(activity=activity, user=absent, now=activity.starts_at - HOUR)
    assert signup.status == SignUp.Status.SIGNED_UP
    client.force_login(leader)
    page = client.get(reverse("volunteers:activity", args=[activity.pk])).content.decode()
    assert 'data-action="no-show"' in page
    client.post(_action(activity, "no-show"), {"signup": signup.pk})
    assert Attendance.objects.get(signup=signup).no_show is True


def test_no_show_before_the_end_is_refused_with_a_message(
    client: Any, world: Any, leader: Any, resident: Any
) -> None:
    start = timezone.now() + HOUR
    activity = ActivityFactory(
        community=world.home,
        team=TeamFactory(community=world.home, leader=leader),
        starts_at=start,
        ends_at=start + HOUR,
    )
    signup = services.activity_signup(activity=activity, user=resident, now=timezone.now())
    client.force_login(leader)
    response = client.post(_action(activity, "no-show"), {"signup": signup.pk}, follow=True)
    assert response.status_code == 200 and _texts(response)
    assert not Attendance.objects.exists()


def test_unknown_action_and_foreign_attendance_are_not_found(
    client: Any, world: Any, leader: Any, resident: Any
) -> None:
    mine = _finished(world, leader)
    theirs = _finished(world, UserFactory(), resident)
    client.force_login(leader)
    assert client.post(_action(mine, "explode")).status_code == 404
    foreign = Attendance.objects.get(activity=theirs)
    assert client.post(_action(mine, "confirm"), {"attendance": foreign.pk}).status_code == 404
    assert client.post(_action(mine, "confirm"), {"attendance": "x"}).status_code == 404


def test_roster_query_count_does_not_grow_with_the_sign_ups(
    client: Any, world: Any, leader: Any, django_assert_max_num_queries: Any
) -> None:
    activity = _finished(world, leader, UserFactory(), hours=1)
    client.force_login(leader)
    url = reverse("volunteers:activity", args=[activity.pk])
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    Activity.objects.filter(pk=activity.pk).update(capacity=50)
    activity.refresh_from_db()
    for _i in range(15):
        user = UserFactory()
        services.activity_signup(activity=activity, user=user, now=activity.starts_at - HOUR)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) == 16
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("volunteers:sheet", args=[activity.pk]))


def test_a_team_leader_without_a_household_finds_volunteering_in_the_menu(
    client: Any, world: Any, leader: Any
) -> None:
    TeamFactory(community=world.home, leader=leader)
    client.force_login(leader)
    response = client.get("/volunteers/")
    assert "/volunteers/" in [item["url"] for item in response.context["linli_nav"]]


def test_leader_checks_in_and_out_a_volunteer_without_a_phone(
    client: Any, world: Any, leader: Any, resident: Any
) -> None:
    now = timezone.now()
    activity = ActivityFactory(
        community=world.home,
        team=TeamFactory(community=world.home, leader=leader),
        starts_at=now - HOUR,
        ends_at=now + HOUR,
    )
    signup = services.activity_signup(activity=activity, user=resident, now=now - 2 * HOUR)
    client.force_login(resident)
    response = client.post(_action(activity, "check-in"), {"signup": signup.pk})
    assert response.status_code == 404  # a volunteer does not check others in
    client.force_login(leader)
    page = client.get(reverse("volunteers:activity", args=[activity.pk]))
    assert b'data-action="check-in"' in page.content
    response = client.post(_action(activity, "check-in"), {"signup": signup.pk}, follow=True)
    assert "已签到。" in _texts(response)
    attendance = Attendance.objects.get(signup=signup)
    assert attendance.checked_in_at is not None
    response = client.post(_action(activity, "check-out"), {"signup": signup.pk}, follow=True)
    attendance.refresh_from_db()
    assert attendance.checked_out_at is not None and attendance.hours is not None


def test_only_the_leader_or_staff_check_someone_else_in(
    world: Any, leader: Any, resident: Any, outsider: Any
) -> None:
    from django.core.exceptions import PermissionDenied

    now = timezone.now()
    activity = ActivityFactory(community=world.home, starts_at=now, ends_at=now + HOUR)
    services.activity_signup(activity=activity, user=resident, now=now - HOUR)
    with pytest.raises(PermissionDenied):
        services.attendance_check_in(activity=activity, user=resident, now=now, actor=outsider)
