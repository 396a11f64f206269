"""/api/v1/volunteers/ for whoever runs an activity: the activities I run, the roster
(phones masked), checking people in and out, no-shows, correcting and confirming hours
(never one's own, points once); the staff's statistics; scoping (404 outside, 403 for a
volunteer who does not run the activity)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from credit.models import PointsAccount
from volunteers import services
from volunteers.models import Activity, Attendance, SignUp
from volunteers.tests.factories import ActivityFactory, PostFactory, TeamFactory
from volunteers.views.checkin import checkin_token

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
BASE = "/api/v1/volunteers/"
ACTIVITIES = BASE + "activities/"


def url(pk: int, *parts: object) -> str:
    return f"{ACTIVITIES}{pk}/" + "".join(f"{p}/" for p in parts)


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def leader(world: Any) -> Any:
    return UserFactory(name="赵队长", phone="13912345678")


def _activity(world: Any, leader: Any, *, start: dt.datetime, hours: int = 2) -> Activity:
    return cast(
        Activity,
        ActivityFactory(
            community=world.home,
            team=TeamFactory(community=world.home, leader=leader),
            starts_at=start,
            ends_at=start + hours * HOUR,
        ),
    )


def _finished(world: Any, leader: Any, *volunteers: Any, hours: int = 2) -> Activity:
    """An activity of the leader's team that ended a minute ago; every volunteer came."""
    end = timezone.now() - MINUTE
    activity = _activity(world, leader, start=end - hours * HOUR, hours=hours)
    for user in volunteers:
        services.activity_signup(activity=activity, user=user, now=activity.starts_at - HOUR)
        services.attendance_check_in(activity=activity, user=user, now=activity.starts_at)
        services.attendance_check_out(activity=activity, user=user, now=end)
    return activity


def _running(world: Any, leader: Any, *volunteers: Any) -> Activity:
    """An activity of the leader's team that started ten minutes ago, volunteers signed up."""
    activity = _activity(world, leader, start=timezone.now() - 10 * MINUTE)
    for user in volunteers:
        services.activity_signup(activity=activity, user=user, now=activity.starts_at - HOUR)
    return activity


# --- scoping -------------------------------------------------------------------------------


def test_outsider_gets_404_and_a_volunteer_403_on_everything_of_the_leader(
    world: Any, leader: Any, resident: Any, outsider: Any
) -> None:
    activity = _finished(world, leader, resident)
    signup = SignUp.objects.get()
    attendance = Attendance.objects.get()
    posts = [
        url(activity.pk, "roster", signup.pk, "check-in"),
        url(activity.pk, "roster", signup.pk, "check-out"),
        url(activity.pk, "roster", signup.pk, "no-show"),
        url(activity.pk, "attendances", attendance.pk, "confirm"),
    ]
    for user, expected in ((outsider, 404), (resident, 403)):
        client = api(user)
        assert client.get(ACTIVITIES + "managed/").json() == []
        assert client.get(url(activity.pk, "roster")).status_code == expected
        for path in posts:
            assert client.post(path).status_code == expected, path
        correct = url(activity.pk, "attendances", attendance.pk, "correct")
        assert client.post(correct, {"hours": "9"}).status_code == expected
    attendance.refresh_from_db()
    assert attendance.confirmed_at is None and attendance.corrected_hours is None


def test_staff_of_another_community_get_404(world: Any, leader: Any, resident: Any) -> None:
    activity = _finished(world, leader, resident)
    elsewhere = UserFactory()
    MembershipFactory(user=elsewhere, role=Membership.Role.COMMUNITY_STAFF, community=world.other)
    client = api(elsewhere)
    assert client.get(url(activity.pk, "roster")).status_code == 404
    attendance = Attendance.objects.get()
    confirm = url(activity.pk, "attendances", attendance.pk, "confirm")
    assert client.post(confirm).status_code == 404
    assert client.get(BASE + "stats/", {"community": world.home.pk}).status_code == 404


def test_ids_of_another_activity_are_404(world: Any, leader: Any, resident: Any) -> None:
    mine = _finished(world, leader, resident)
    theirs = _finished(world, UserFactory(), resident)
    foreign = Attendance.objects.get(activity=theirs)
    foreign_signup = SignUp.objects.get(activity=theirs)
    client = api(leader)
    assert client.post(url(mine.pk, "attendances", foreign.pk, "confirm")).status_code == 404
    assert client.post(url(mine.pk, "roster", foreign_signup.pk, "no-show")).status_code == 404
    foreign.refresh_from_db()
    assert foreign.confirmed_at is None


# --- the leader's activities and roster ----------------------------------------------------


def test_managed_lists_what_i_run_with_the_qr_link(
    world: Any, leader: Any, staff: Any, resident: Any
) -> None:
    mine = _running(world, leader)
    someone_elses = _running(world, UserFactory())
    rows = api(leader).get(ACTIVITIES + "managed/").json()
    assert [row["id"] for row in rows] == [mine.pk]
    assert rows[0]["checkin_token"] == checkin_token(mine.pk)
    assert rows[0]["checkin_url"].startswith("http://testserver/volunteers/activities/")
    assert rows[0]["checkin_url"].endswith(f"/{checkin_token(mine.pk)}/")
    office = {row["id"] for row in api(staff).get(ACTIVITIES + "managed/").json()}
    assert office == {mine.pk, someone_elses.pk}


def test_the_roster_lists_places_then_waiting_with_phones_masked(
    world: Any, leader: Any, resident: Any, staff: Any
) -> None:
    activity = _activity(world, leader, start=timezone.now() + HOUR)
    Activity.objects.filter(pk=activity.pk).update(capacity=1)
    activity.refresh_from_db()
    volunteer = UserFactory(name="孙志愿", phone="13700001234")
    services.activity_signup(activity=activity, user=volunteer, now=timezone.now())
    services.activity_signup(activity=activity, user=resident, now=timezone.now())
    response = api(leader).get(url(activity.pk, "roster"))
    assert response.status_code == 200
    rows = response.json()
    assert [(r["name"], r["status"], r["position"]) for r in rows] == [
        ("孙志愿", "signed_up", None),
        ("张建国", "waiting", 1),
    ]
    assert rows[0]["phone"] == "137****1234" and "13700001234" not in response.content.decode()
    assert rows[0]["state"] == "signed_up" and rows[0]["attendance"] is None
    assert rows[1]["state"] == "waiting"
    assert api(staff).get(url(activity.pk, "roster")).status_code == 200


# --- check-in, hours, confirmation ---------------------------------------------------------


def test_the_leader_checks_someone_in_and_out(world: Any, leader: Any, resident: Any) -> None:
    activity = _running(world, leader, resident)
    signup = SignUp.objects.get()
    client = api(leader)
    response = client.post(url(activity.pk, "roster", signup.pk, "check-in"))
    assert response.status_code == 200 and response.json()["state"] == "checked_in"
    response = client.post(url(activity.pk, "roster", signup.pk, "check-out"))
    assert response.status_code == 200 and response.json()["state"] == "checked_out"
    attendance = Attendance.objects.get()
    assert attendance.user == resident and attendance.checked_out_at is not None
    row = client.get(url(activity.pk, "roster")).json()[0]
    assert row["state"] == "checked_out" and row["attendance"]["id"] == attendance.pk


def test_the_leader_corrects_then_confirms_and_points_are_awarded_once(
    world: Any, leader: Any, resident: Any, standard: None
) -> None:
    activity = _finished(world, leader, resident, hours=2)
    attendance = Attendance.objects.get()
    client = api(leader)
    correct = url(activity.pk, "attendances", attendance.pk, "correct")
    response = client.post(correct, {"hours": "1.5"}, format="json")
    assert response.status_code == 200
    assert response.json()["corrected_hours"] == "1.50"
    assert response.json()["counted_hours"] == "1.50"
    confirm = url(activity.pk, "attendances", attendance.pk, "confirm")
    response = client.post(confirm)
    assert response.status_code == 200 and response.json()["state"] == "confirmed"
    assert client.post(confirm).status_code == 200  # a second click changes nothing
    account = PointsAccount.objects.get(resident=world.resident_a)
    assert account.balance == 3  # 1.5 hours at two points an hour, once
    hours = api(resident).get(BASE + "hours/").json()
    assert hours["confirmed_hours"] == "1.50" and hours["points_balance"] == 3
    # Confirmed hours are not corrected any more.
    response = client.post(correct, {"hours": "5"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "confirmed"


def test_correct_refuses_negative_or_missing_hours(world: Any, leader: Any, resident: Any) -> None:
    activity = _finished(world, leader, resident)
    attendance = Attendance.objects.get()
    correct = url(activity.pk, "attendances", attendance.pk, "correct")
    client = api(leader)
    response = client.post(correct, {"hours": "-1"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "negative"
    assert client.post(correct, {}, format="json").status_code == 400
    assert client.post(correct, {"hours": "abc"}, format="json").status_code == 400
    attendance.refresh_from_db()
    assert attendance.corrected_hours is None


def test_a_volunteer_cannot_confirm_their_own_hours(
    world: Any, leader: Any, resident: Any, standard: None
) -> None:
    # A volunteer who does not run the activity: in scope, not theirs to do.
    activity = _finished(world, leader, resident)
    attendance = Attendance.objects.get()
    confirm = url(activity.pk, "attendances", attendance.pk, "confirm")
    assert api(resident).post(confirm).status_code == 403
    # The leader who took part in their own team's activity: the service refuses.
    own = _finished(world, leader, leader)
    own_attendance = Attendance.objects.get(activity=own)
    response = api(leader).post(url(own.pk, "attendances", own_attendance.pk, "confirm"))
    assert response.status_code == 403 and response.json()["detail"]
    response = api(leader).post(
        url(own.pk, "attendances", own_attendance.pk, "correct"), {"hours": "8"}
    )
    assert response.status_code == 403
    for done in (attendance, own_attendance):
        done.refresh_from_db()
        assert done.confirmed_at is None and done.corrected_hours is None
    assert not PointsAccount.objects.filter(balance__gt=0).exists()


def test_a_no_show_is_recorded_after_the_end_only(world: Any, leader: Any, resident: Any) -> None:
    running = _running(world, leader, resident)
    signup = SignUp.objects.get(activity=running)
    client = api(leader)
    response = client.post(url(running.pk, "roster", signup.pk, "no-show"))
    assert response.status_code == 400 and response.json()["code"] == "not_ended"
    end = timezone.now() - MINUTE
    ended = _activity(world, leader, start=end - 2 * HOUR)
    absent = services.activity_signup(activity=ended, user=resident, now=ended.starts_at - HOUR)
    response = client.post(url(ended.pk, "roster", absent.pk, "no-show"))
    assert response.status_code == 200
    assert response.json()["state"] == "no_show" and response.json()["no_show"] is True
    assert Attendance.objects.get(signup=absent).no_show


# --- statistics ----------------------------------------------------------------------------


def test_staff_read_the_years_hours_per_team_post_and_month(
    world: Any, leader: Any, resident: Any, staff: Any, standard: None
) -> None:
    activity = _finished(world, leader, resident, hours=2)
    Activity.objects.filter(pk=activity.pk).update(post=PostFactory(community=world.home))
    attendance = Attendance.objects.get()
    services.attendance_confirm(attendance=attendance, actor=staff, now=timezone.now())
    year = timezone.localtime(activity.starts_at).year
    response = api(staff).get(BASE + "stats/", {"community": world.home.pk, "year": year})
    assert response.status_code == 200
    body = response.json()
    assert body["year"] == year and body["community"] == world.home.pk
    assert body["total_hours"] == "2.00" and body["total_attendances"] == 1
    assert body["by_team"] == [{"name": activity.team.name, "hours": "2.00", "attendances": 1}]
    assert len(body["by_post"]) == 1 and body["by_post"][0]["hours"] == "2.00"
    assert len(body["by_month"]) == 12
    month = timezone.localtime(activity.starts_at).month
    assert body["by_month"][month - 1] == {"month": month, "hours": "2.00", "attendances": 1}
    assert body["headcount"]["active"] == 1 and body["headcount"]["teams"] == 1
    # Without a year: this year; another year has nothing.
    assert api(staff).get(BASE + "stats/", {"community": world.home.pk}).status_code == 200
    empty = api(staff).get(BASE + "stats/", {"community": world.home.pk, "year": year - 1})
    assert empty.json()["total_hours"] == "0.00"


def test_stats_are_for_the_communitys_staff_only(
    world: Any, leader: Any, resident: Any, staff: Any
) -> None:
    assert api(resident).get(BASE + "stats/", {"community": world.home.pk}).status_code == 404
    assert api(leader).get(BASE + "stats/", {"community": world.home.pk}).status_code == 404
    assert api(staff).get(BASE + "stats/", {"community": world.other.pk}).status_code == 404
    assert api(staff).get(BASE + "stats/", {"community": 999_999}).status_code == 404
    assert api(staff).get(BASE + "stats/").status_code == 400
    assert api(staff).get(BASE + "stats/", {"community": "x"}).status_code == 400
    bad_year = {"community": world.home.pk, "year": 1900}
    assert api(staff).get(BASE + "stats/", bad_year).status_code == 400
