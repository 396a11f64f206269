"""/api/v1/volunteers/ for the volunteer's phone: upcoming activities, sign-up with the
waiting list, cancel, my shifts, check-in and check-out with the QR code's token, my
hours; planning an activity; scoping (404 for the outsider) and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from community.tests.factories import UserFactory
from volunteers import services
from volunteers.models import Activity, Attendance, NoShowBlock, SignUp, TeamMember
from volunteers.tests.factories import ActivityFactory, TeamFactory
from volunteers.views.checkin import checkin_token

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
BASE = "/api/v1/volunteers/"
ACTIVITIES = BASE + "activities/"


def activity_url(pk: int, action: str = "") -> str:
    return f"{ACTIVITIES}{pk}/{action + '/' if action else ''}"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _upcoming(world: Any, **kwargs: Any) -> Activity:
    start = timezone.now() + 2 * HOUR
    kwargs.setdefault("community", world.home)
    return cast(Activity, ActivityFactory(starts_at=start, ends_at=start + 2 * HOUR, **kwargs))


def _running(world: Any, user: Any, *, started: dt.timedelta = 10 * MINUTE) -> Activity:
    """An activity that started `started` ago and lasts an hour, `user` signed up."""
    start = timezone.now() - started
    activity = ActivityFactory(community=world.home, starts_at=start, ends_at=start + HOUR)
    services.activity_signup(activity=activity, user=user, now=start - HOUR)
    return cast(Activity, activity)


def _finished(world: Any, user: Any) -> Attendance:
    """An attendance of `user` at a two-hour activity that ended a minute ago."""
    end = timezone.now() - MINUTE
    activity = ActivityFactory(community=world.home, starts_at=end - 2 * HOUR, ends_at=end)
    services.activity_signup(activity=activity, user=user, now=activity.starts_at - HOUR)
    services.attendance_check_in(activity=activity, user=user, now=activity.starts_at)
    return services.attendance_check_out(activity=activity, user=user, now=end)


def test_urls_are_under_the_volunteers_api() -> None:
    assert reverse("volunteers-api:activities") == ACTIVITIES
    assert reverse("volunteers-api:managed") == ACTIVITIES + "managed/"
    assert reverse("volunteers-api:activity", args=[7]) == activity_url(7)
    for name in ("sign-up", "check-in", "check-out", "roster"):
        assert reverse(f"volunteers-api:{name}", args=[7]) == activity_url(7, name)
    assert reverse("volunteers-api:sign-ups") == BASE + "sign-ups/"
    assert reverse("volunteers-api:cancel", args=[7]) == BASE + "sign-ups/7/cancel/"
    assert reverse("volunteers-api:hours") == BASE + "hours/"
    assert reverse("volunteers-api:stats") == BASE + "stats/"


def test_anonymous_callers_are_refused(world: Any) -> None:
    activity = _upcoming(world)
    assert APIClient().get(ACTIVITIES).status_code in (401, 403)
    assert APIClient().post(activity_url(activity.pk, "sign-up")).status_code in (401, 403)
    assert not SignUp.objects.exists()


# --- scoping -------------------------------------------------------------------------------


def test_the_outsider_sees_nothing_and_is_denied_everything(
    world: Any, resident: Any, outsider: Any
) -> None:
    activity = _upcoming(world)
    theirs = services.activity_signup(activity=activity, user=resident, now=timezone.now())
    client = api(outsider)
    assert client.get(ACTIVITIES).json()["results"] == []
    assert client.get(activity_url(activity.pk)).status_code == 404
    assert client.post(activity_url(activity.pk, "sign-up")).status_code == 404
    token = {"token": checkin_token(activity.pk)}
    assert client.post(activity_url(activity.pk, "check-in"), token).status_code == 404
    assert client.post(activity_url(activity.pk, "check-out"), token).status_code == 404
    assert client.post(f"{BASE}sign-ups/{theirs.pk}/cancel/").status_code == 404
    assert client.get(BASE + "sign-ups/").json() == []
    hours = client.get(BASE + "hours/").json()
    assert hours["confirmed_hours"] == "0.00" and hours["results"] == []
    assert hours["points_balance"] is None
    assert client.get(ACTIVITIES + "managed/").json() == []
    assert client.get(activity_url(activity.pk, "roster")).status_code == 404
    assert client.get(BASE + "stats/", {"community": world.home.pk}).status_code == 404
    assert SignUp.objects.get() == theirs and theirs.status == SignUp.Status.SIGNED_UP


def test_a_resident_of_another_community_gets_404(world: Any, resident: Any) -> None:
    elsewhere = _upcoming(world, community=world.other)
    here = _upcoming(world)
    client = api(resident)
    assert [row["id"] for row in client.get(ACTIVITIES).json()["results"]] == [here.pk]
    assert client.get(activity_url(elsewhere.pk)).status_code == 404
    assert client.post(activity_url(elsewhere.pk, "sign-up")).status_code == 404
    assert not SignUp.objects.exists()


def test_an_unknown_activity_is_404_like_one_out_of_scope(resident: Any) -> None:
    assert api(resident).get(activity_url(999_999)).status_code == 404


# --- activities ----------------------------------------------------------------------------


def test_the_list_shows_places_left_the_waiting_list_and_my_signup(
    world: Any, resident: Any
) -> None:
    roomy = _upcoming(world, capacity=5, title="周六理发")
    full = _upcoming(world, capacity=1, title="夜间巡逻", team=TeamFactory(community=world.home))
    services.activity_signup(activity=full, user=UserFactory(), now=timezone.now())
    for _n in range(2):
        services.activity_signup(activity=full, user=UserFactory(), now=timezone.now())
    closed = _upcoming(world, signup_open=False)
    started = ActivityFactory(
        community=world.home,
        starts_at=timezone.now() - MINUTE,
        ends_at=timezone.now() + HOUR,
    )
    mine = services.activity_signup(activity=roomy, user=resident, now=timezone.now())
    rows = {row["id"]: row for row in api(resident).get(ACTIVITIES).json()["results"]}
    assert set(rows) == {roomy.pk, full.pk}
    assert closed.pk not in rows and started.pk not in rows
    assert rows[roomy.pk]["places_left"] == 4
    assert rows[roomy.pk]["my_signup"] == mine.pk
    assert rows[roomy.pk]["my_status"] == "signed_up"
    assert rows[full.pk]["places_left"] == 0
    assert rows[full.pk]["waiting_count"] == 2
    assert rows[full.pk]["my_signup"] is None and rows[full.pk]["my_status"] is None
    assert rows[full.pk]["team_name"] == full.team.name
    assert rows[roomy.pk]["title"] == "周六理发" and rows[roomy.pk]["kind"] == "service_day"


def test_the_list_costs_the_same_queries_for_one_or_ten_activities(
    world: Any, resident: Any, django_assert_max_num_queries: Any
) -> None:
    client = api(resident)
    team = TeamFactory(community=world.home)
    _upcoming(world, team=team)
    client.get(ACTIVITIES)  # the caller's scope is cached after the first request
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(ACTIVITIES).json()["results"]) == 1
    for _n in range(9):
        activity = _upcoming(world, team=TeamFactory(community=world.home), capacity=1)
        services.activity_signup(activity=activity, user=UserFactory(), now=timezone.now())
        services.activity_signup(activity=activity, user=resident, now=timezone.now())
    with CaptureQueriesContext(connection) as ten:
        assert len(client.get(ACTIVITIES).json()["results"]) == 10
    assert len(ten.captured_queries) == len(one.captured_queries)
    with django_assert_max_num_queries(3):  # home's community, teams served in, the page
        client.get(ACTIVITIES)


def test_the_list_comes_in_pages_of_twenty_soonest_first(world: Any, resident: Any) -> None:
    soon = timezone.now() + HOUR
    planned = [
        ActivityFactory(
            community=world.home, starts_at=soon + n * HOUR, ends_at=soon + (n + 1) * HOUR
        ).pk
        for n in range(25)
    ]
    client = api(resident)
    first = client.get(ACTIVITIES).json()
    assert [row["id"] for row in first["results"]] == planned[:20]
    rest = client.get(first["next"]).json()
    assert [row["id"] for row in rest["results"]] == planned[20:]
    assert rest["next"] is None
    assert len(client.get(ACTIVITIES, {"page_size": 500}).json()["results"]) == 25


def test_detail_shows_my_place_on_the_waiting_list_and_the_check_in_window(
    world: Any, resident: Any
) -> None:
    activity = _upcoming(world, capacity=1)
    services.activity_signup(activity=activity, user=UserFactory(), now=timezone.now())
    services.activity_signup(activity=activity, user=UserFactory(), now=timezone.now())
    mine = services.activity_signup(activity=activity, user=resident, now=timezone.now())
    body = api(resident).get(activity_url(activity.pk)).json()
    assert body["my_signup"] == {"id": mine.pk, "status": "waiting", "position": 2}
    assert body["waiting_count"] == 2 and body["places_left"] == 0
    opens = dt.datetime.fromisoformat(body["checkin_opens_at"])
    assert opens == activity.starts_at - dt.timedelta(minutes=activity.checkin_opens_minutes)


# --- sign-up and cancel --------------------------------------------------------------------


def test_sign_up_takes_a_place_then_the_waiting_list_over_the_api(
    world: Any, resident: Any
) -> None:
    activity = _upcoming(world, capacity=1)
    world.resident_b.user = UserFactory(name="李秀英")
    world.resident_b.save(update_fields=["user"])
    first = api(world.resident_b.user).post(activity_url(activity.pk, "sign-up"))
    assert first.status_code == 201
    assert first.json()["status"] == "signed_up" and first.json()["position"] is None
    response = api(resident).post(activity_url(activity.pk, "sign-up"))
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "waiting" and body["position"] == 1
    assert body["activity"] == activity.pk
    again = api(resident).post(activity_url(activity.pk, "sign-up"))
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    activity.refresh_from_db()
    assert activity.signed_up_count == 1
    assert SignUp.objects.filter(activity=activity).count() == 2


def test_sign_up_refusals_are_400_or_403_with_the_services_words(world: Any, resident: Any) -> None:
    client = api(resident)
    closed = _upcoming(world, signup_open=False)
    response = client.post(activity_url(closed.pk, "sign-up"))
    assert response.status_code == 400 and response.json()["code"] == "closed"
    assert response.json()["detail"]
    team = TeamFactory(community=world.home)
    for_team = _upcoming(world, team=team, audience=Activity.Audience.TEAM)
    response = client.post(activity_url(for_team.pk, "sign-up"))
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert response.json()["detail"]
    NoShowBlock.objects.create(user=resident, no_shows=3, blocked_at=timezone.now())
    open_one = _upcoming(world)
    assert client.post(activity_url(open_one.pk, "sign-up")).status_code == 403
    assert not SignUp.objects.filter(user=resident).exists()


def test_a_team_member_signs_up_for_the_teams_activity(world: Any, resident: Any) -> None:
    team = TeamFactory(community=world.home)
    TeamMember.objects.create(team=team, user=resident, joined_at=timezone.now())
    activity = _upcoming(world, team=team, audience=Activity.Audience.TEAM)
    assert api(resident).post(activity_url(activity.pk, "sign-up")).status_code == 201


def test_cancelling_gives_the_place_to_the_first_waiting(world: Any, resident: Any) -> None:
    activity = _upcoming(world, capacity=1)
    mine = services.activity_signup(activity=activity, user=resident, now=timezone.now())
    waiting = services.activity_signup(activity=activity, user=UserFactory(), now=timezone.now())
    response = api(resident).post(f"{BASE}sign-ups/{mine.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["cancelled_at"]
    waiting.refresh_from_db()
    assert waiting.status == SignUp.Status.SIGNED_UP
    # Nobody cancels someone else's sign-up: it is not theirs to see.
    assert api(resident).post(f"{BASE}sign-ups/{waiting.pk}/cancel/").status_code == 404
    waiting.refresh_from_db()
    assert waiting.status == SignUp.Status.SIGNED_UP


def test_cancelling_after_the_start_is_refused(world: Any, resident: Any) -> None:
    activity = _running(world, resident)
    mine = SignUp.objects.get(activity=activity, user=resident)
    response = api(resident).post(f"{BASE}sign-ups/{mine.pk}/cancel/")
    assert response.status_code == 400 and response.json()["code"] == "started"
    mine.refresh_from_db()
    assert mine.status == SignUp.Status.SIGNED_UP


def test_my_shifts_are_my_active_sign_ups_of_activities_not_ended(
    world: Any, resident: Any
) -> None:
    later = _upcoming(world)
    soon = _running(world, resident)
    signed = services.activity_signup(activity=later, user=resident, now=timezone.now())
    cancelled = _upcoming(world)
    gone = services.activity_signup(activity=cancelled, user=resident, now=timezone.now())
    services.signup_cancel(signup=gone, actor=resident, now=timezone.now())
    _finished(world, resident)
    services.activity_signup(activity=_upcoming(world), user=UserFactory(), now=timezone.now())
    rows = api(resident).get(BASE + "sign-ups/").json()
    assert [row["activity"] for row in rows] == [soon.pk, later.pk]
    assert rows[1]["id"] == signed.pk and rows[1]["starts_at"]


# --- check-in with the QR code's token -----------------------------------------------------


def test_check_in_and_out_with_the_qr_codes_token(world: Any, resident: Any) -> None:
    activity = _running(world, resident)
    token = {"token": checkin_token(activity.pk)}
    client = api(resident)
    response = client.post(activity_url(activity.pk, "check-in"), token)
    assert response.status_code == 200
    assert response.json()["state"] == "checked_in" and response.json()["checked_in_at"]
    response = client.post(activity_url(activity.pk, "check-out"), token, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "checked_out" and body["hours"] is not None
    attendance = Attendance.objects.get(activity=activity, user=resident)
    assert attendance.checked_out_at is not None
    assert Decimal(body["hours"]) == attendance.hours


def test_a_wrong_or_missing_token_checks_nobody_in(world: Any, resident: Any) -> None:
    activity = _running(world, resident)
    other = _running(world, resident)
    client = api(resident)
    wrong = client.post(activity_url(activity.pk, "check-in"), {"token": "made-up"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "token"
    # The code of another activity does not open this one.
    borrowed = {"token": checkin_token(other.pk)}
    assert client.post(activity_url(activity.pk, "check-in"), borrowed).status_code == 403
    assert client.post(activity_url(activity.pk, "check-in"), {}).status_code == 400
    assert not Attendance.objects.exists()


def test_check_in_outside_the_window_or_without_a_place_is_refused(
    world: Any, resident: Any
) -> None:
    client = api(resident)
    early = _upcoming(world)
    services.activity_signup(activity=early, user=resident, now=timezone.now())
    response = client.post(activity_url(early.pk, "check-in"), {"token": checkin_token(early.pk)})
    assert response.status_code == 400 and response.json()["code"] == "window"
    stranger = _running(world, UserFactory())
    token = {"token": checkin_token(stranger.pk)}
    response = client.post(activity_url(stranger.pk, "check-in"), token)
    assert response.status_code == 400 and response.json()["code"] == "not_signed_up"
    response = client.post(activity_url(stranger.pk, "check-out"), token)
    assert response.status_code == 400 and response.json()["code"] == "not_checked_in"
    assert not Attendance.objects.exists()


# --- my hours ------------------------------------------------------------------------------


def test_my_hours_total_points_and_attendances_paged(
    world: Any, resident: Any, staff: Any, standard: None
) -> None:
    confirmed = _finished(world, resident)
    services.attendance_confirm(attendance=confirmed, actor=staff, now=timezone.now())
    for _n in range(2):
        _finished(world, resident)
    _finished(world, UserFactory())  # someone else's
    client = api(resident)
    body = client.get(BASE + "hours/", {"limit": 2}).json()
    assert body["confirmed_hours"] == "2.00"  # only the confirmed attendance counts
    assert body["points_balance"] == 4  # two hours at two points an hour
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    rest = client.get(body["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    rows = {row["id"]: row for row in body["results"] + rest["results"]}
    assert rows[confirmed.pk]["state"] == "confirmed"
    assert rows[confirmed.pk]["counted_hours"] == "2.00"
    assert rows[confirmed.pk]["activity_title"] == confirmed.activity.title
    assert client.get(BASE + "hours/", {"limit": "x"}).status_code == 200  # DRF: default limit


# --- planning an activity ------------------------------------------------------------------


def _plan(world: Any, **changes: Any) -> dict[str, Any]:
    start = timezone.now() + 24 * HOUR
    data = {
        "community": world.home.pk,
        "title": "周六磨刀",
        "kind": "service_day",
        "place": "社区广场",
        "starts_at": start.isoformat(),
        "ends_at": (start + 2 * HOUR).isoformat(),
        "capacity": 3,
    }
    data.update(changes)
    return data


def test_staff_plan_an_activity_residents_see_and_sign_up_for(
    world: Any, staff: Any, resident: Any
) -> None:
    response = api(staff).post(ACTIVITIES, _plan(world), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "周六磨刀" and body["capacity"] == 3 and body["audience"] == "open"
    assert body["checkin_token"] == checkin_token(body["id"])
    activity = Activity.objects.get(pk=body["id"])
    assert activity.community == world.home
    assert [row["id"] for row in api(resident).get(ACTIVITIES).json()["results"]] == [activity.pk]


def test_a_leader_plans_for_their_own_team_only(world: Any) -> None:
    leader = UserFactory()
    team = TeamFactory(community=world.home, leader=leader)
    other_team = TeamFactory(community=world.home)
    client = api(leader)
    ok = client.post(ACTIVITIES, _plan(world, team=team.pk, audience="team"), format="json")
    assert ok.status_code == 201 and ok.json()["team"] == team.pk
    refused = client.post(ACTIVITIES, _plan(world, team=other_team.pk), format="json")
    assert refused.status_code == 403
    assert Activity.objects.count() == 1


def test_planning_refusals(world: Any, staff: Any, resident: Any, outsider: Any) -> None:
    assert api(resident).post(ACTIVITIES, _plan(world), format="json").status_code == 403
    assert api(outsider).post(ACTIVITIES, _plan(world), format="json").status_code == 403
    elsewhere = _plan(world, community=world.other.pk)
    assert api(staff).post(ACTIVITIES, elsewhere, format="json").status_code == 403
    past = timezone.now() - HOUR
    wrong = _plan(
        world,
        starts_at=past.isoformat(),
        ends_at=(past - HOUR).isoformat(),
        capacity=0,
    )
    response = api(staff).post(ACTIVITIES, wrong, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert {"starts_at", "ends_at", "capacity"} <= set(response.json()["errors"])
    assert api(staff).post(ACTIVITIES, _plan(world, kind="x"), format="json").status_code == 400
    assert not Activity.objects.exists()


# --- schema --------------------------------------------------------------------------------


def test_the_schema_documents_every_volunteers_endpoint(staff: Any) -> None:
    response = api(staff).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "activities/",
        "activities/managed/",
        "activities/{id}/",
        "activities/{id}/sign-up/",
        "activities/{id}/check-in/",
        "activities/{id}/check-out/",
        "activities/{id}/roster/",
        "activities/{id}/roster/{signup_id}/check-in/",
        "activities/{id}/roster/{signup_id}/check-out/",
        "activities/{id}/roster/{signup_id}/no-show/",
        "activities/{id}/attendances/{attendance_id}/correct/",
        "activities/{id}/attendances/{attendance_id}/confirm/",
        "sign-ups/",
        "sign-ups/{id}/cancel/",
        "hours/",
        "stats/",
    ):
        assert f'"{BASE}{path}"' in text, path
    assert "SignUpStatusEnum" in text and "places_left" in text
