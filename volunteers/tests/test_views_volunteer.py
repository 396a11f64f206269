"""The volunteer's phone pages: upcoming activities, sign-up and cancel, my shifts and
hours, and the signed check-in link the activity's QR code opens."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import pytest
from django.urls import reverse
from django.utils import timezone

from community.tests.factories import UserFactory
from volunteers import services
from volunteers.models import Activity, Attendance, NoShowBlock, SignUp, TeamMember
from volunteers.tests.factories import ActivityFactory, PostFactory, TeamFactory
from volunteers.views.checkin import checkin_path, checkin_token

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
HOME = "/volunteers/"


def _upcoming(world: Any, **kwargs: Any) -> Activity:
    start = timezone.now() + 2 * HOUR
    activity = ActivityFactory(
        community=world.home, starts_at=start, ends_at=start + 2 * HOUR, **kwargs
    )
    return cast(Activity, activity)


def _running(world: Any, user: Any, *, started: dt.timedelta = 10 * MINUTE) -> Activity:
    """An activity that started `started` ago and lasts an hour, `user` signed up."""
    start = timezone.now() - started
    activity = ActivityFactory(community=world.home, starts_at=start, ends_at=start + HOUR)
    services.activity_signup(activity=activity, user=user, now=start - HOUR)
    return cast(Activity, activity)


def _texts(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_outsider_is_denied_every_volunteer_page(client: Any, world: Any, outsider: Any) -> None:
    activity = _upcoming(world)
    client.force_login(outsider)
    assert client.get(HOME).status_code == 404
    assert client.post(reverse("volunteers:signup", args=[activity.pk])).status_code == 404
    assert client.get(checkin_path(activity.pk)).status_code == 404
    assert not SignUp.objects.exists()


def test_anonymous_visitor_is_sent_to_log_in(client: Any, world: Any) -> None:
    response = client.get(HOME)
    assert response.status_code == 302
    assert "login" in response.url


def test_resident_of_another_community_cannot_sign_up(client: Any, world: Any) -> None:
    elsewhere = UserFactory()
    world.other_resident.user = elsewhere
    world.other_resident.save(update_fields=["user"])
    activity = _upcoming(world)
    client.force_login(elsewhere)
    assert activity.pk not in [a.pk for a in client.get(HOME).context["upcoming"]]
    assert client.post(reverse("volunteers:signup", args=[activity.pk])).status_code == 404
    assert not SignUp.objects.exists()


def test_home_shows_places_left_and_the_waiting_list(
    client: Any, world: Any, resident: Any
) -> None:
    roomy = _upcoming(world, capacity=5, title="周六理发")
    full = _upcoming(world, capacity=1, title="夜间巡逻")
    for _n in range(3):
        services.activity_signup(activity=full, user=UserFactory(), now=timezone.now())
    closed = _upcoming(world, signup_open=False, title="已截止")
    client.force_login(resident)
    response = client.get(HOME)
    assert response.status_code == 200
    body = response.content.decode()
    assert "周六理发" in body and "夜间巡逻" in body and "已截止" not in body
    rows = {a.pk: a for a in response.context["upcoming"]}
    assert closed.pk not in rows
    assert rows[roomy.pk].places_left == 5
    assert rows[full.pk].places_left == 0 and rows[full.pk].waiting_count == 2


def test_sign_up_on_the_page_then_cancel_promotes_the_first_waiting(
    client: Any, world: Any, resident: Any
) -> None:
    activity = _upcoming(world, capacity=1)
    client.force_login(resident)
    response = client.post(reverse("volunteers:signup", args=[activity.pk]), follow=True)
    mine = SignUp.objects.get(user=resident)
    assert mine.status == SignUp.Status.SIGNED_UP
    assert any(activity.title in text for text in _texts(response))
    assert [s.pk for s in response.context["shifts"]] == [mine.pk]

    waiting = services.activity_signup(activity=activity, user=UserFactory(), now=timezone.now())
    assert waiting.status == SignUp.Status.WAITING

    response = client.post(reverse("volunteers:cancel", args=[mine.pk]), follow=True)
    assert response.status_code == 200
    mine.refresh_from_db()
    waiting.refresh_from_db()
    assert mine.status == SignUp.Status.CANCELLED
    assert waiting.status == SignUp.Status.SIGNED_UP
    assert response.context["shifts"] == []


def test_a_full_activity_puts_the_volunteer_on_the_waiting_list(
    client: Any, world: Any, resident: Any
) -> None:
    activity = _upcoming(world, capacity=1)
    services.activity_signup(activity=activity, user=UserFactory(), now=timezone.now())
    client.force_login(resident)
    response = client.post(reverse("volunteers:signup", args=[activity.pk]), follow=True)
    assert SignUp.objects.get(user=resident).status == SignUp.Status.WAITING
    assert any("1" in text for text in _texts(response))


def test_blocked_volunteer_sees_the_refusal_not_an_error(
    client: Any, world: Any, resident: Any
) -> None:
    NoShowBlock.objects.create(user=resident, no_shows=3, blocked_at=timezone.now())
    activity = _upcoming(world)
    client.force_login(resident)
    response = client.post(reverse("volunteers:signup", args=[activity.pk]), follow=True)
    assert response.status_code == 200
    assert not SignUp.objects.exists()
    assert _texts(response)  # the service's words, shown as a message


def test_nobody_cancels_another_volunteers_sign_up_from_the_page(
    client: Any, world: Any, resident: Any
) -> None:
    activity = _upcoming(world)
    theirs = services.activity_signup(activity=activity, user=UserFactory(), now=timezone.now())
    client.force_login(resident)
    assert client.post(reverse("volunteers:cancel", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == SignUp.Status.SIGNED_UP


def test_party_member_of_a_team_sees_the_community_activities(client: Any, world: Any) -> None:
    member = UserFactory()
    team = TeamFactory(community=world.home)
    TeamMember.objects.create(team=team, user=member, joined_at=timezone.now())
    activity = _upcoming(world)
    client.force_login(member)
    response = client.get(HOME)
    assert [a.pk for a in response.context["upcoming"]] == [activity.pk]
    assert HOME in [item["url"] for item in response.context["linli_nav"]]


def test_resident_menu_leads_to_volunteering(client: Any, world: Any, resident: Any) -> None:
    client.force_login(resident)
    response = client.get("/points/standard/")
    assert HOME in [item["url"] for item in response.context["linli_nav"]]


def test_qr_link_checks_in_and_out_and_counts_the_hours(
    client: Any, world: Any, resident: Any
) -> None:
    activity = _running(world, resident)
    client.force_login(resident)
    page = client.get(checkin_path(activity.pk))
    assert page.status_code == 200
    assert 'name="direction" value="in"' in page.content.decode()
    post = reverse("volunteers:check-in-post", args=[activity.pk, checkin_token(activity.pk)])
    response = client.post(post, {"direction": "in"}, follow=True)
    assert 'name="direction" value="out"' in response.content.decode()
    attendance = Attendance.objects.get(user=resident)
    assert attendance.checked_in_at is not None and attendance.checked_out_at is None

    response = client.post(post, {"direction": "out"}, follow=True)
    attendance.refresh_from_db()
    assert attendance.checked_out_at is not None
    assert attendance.hours is not None and attendance.hours >= 0
    assert 'name="direction"' not in response.content.decode()


def test_a_forged_or_borrowed_check_in_token_is_not_found(
    client: Any, world: Any, resident: Any
) -> None:
    activity = _running(world, resident)
    other = _running(world, resident)
    client.force_login(resident)
    forged = reverse("volunteers:check-in", args=[activity.pk, "forged-token"])
    assert client.get(forged).status_code == 404
    borrowed = reverse("volunteers:check-in", args=[activity.pk, checkin_token(other.pk)])
    assert client.get(borrowed).status_code == 404
    post = reverse("volunteers:check-in-post", args=[activity.pk, "forged-token"])
    assert client.post(post, {"direction": "in"}).status_code == 404
    assert not Attendance.objects.exists()


def test_check_in_outside_the_window_is_refused_with_a_message(
    client: Any, world: Any, resident: Any
) -> None:
    start = timezone.now() + 3 * HOUR  # check-in opens 30 minutes before the start
    activity = ActivityFactory(community=world.home, starts_at=start, ends_at=start + HOUR)
    services.activity_signup(activity=activity, user=resident, now=timezone.now())
    client.force_login(resident)
    post = reverse("volunteers:check-in-post", args=[activity.pk, checkin_token(activity.pk)])
    response = client.post(post, {"direction": "in"}, follow=True)
    assert response.status_code == 200
    assert _texts(response)
    assert not Attendance.objects.exists()


def test_check_in_page_tells_a_volunteer_who_did_not_sign_up(
    client: Any, world: Any, resident: Any
) -> None:
    activity = _running(world, UserFactory())
    client.force_login(resident)
    response = client.get(checkin_path(activity.pk))
    assert response.status_code == 200
    assert 'name="direction"' not in response.content.decode()


def test_my_hours_show_confirmed_and_waiting_hours_and_link_to_points(
    client: Any, world: Any, resident: Any, staff: Any, standard: None
) -> None:
    first = _running(world, resident, started=2 * HOUR)
    now = timezone.now()
    services.attendance_check_in(activity=first, user=resident, now=first.starts_at)
    done = services.attendance_check_out(activity=first, user=resident, now=first.ends_at)
    services.attendance_confirm(attendance=done, actor=staff, now=now)
    second = _running(world, resident, started=30 * MINUTE)
    services.attendance_check_in(activity=second, user=resident, now=second.starts_at)
    services.attendance_check_out(activity=second, user=resident, now=now)
    client.force_login(resident)
    response = client.get(HOME)
    body = response.content.decode()
    assert response.context["confirmed_hours"] == Decimal(1)
    assert reverse("credit:points-home") in body
    rows = {t.activity_id: t for t in response.context["attendances"]}
    assert rows[first.pk].confirmed_at is not None
    assert rows[second.pk].confirmed_at is None


def test_home_query_count_does_not_grow_with_the_activities(
    client: Any, world: Any, resident: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(resident)

    def fill(n: int) -> None:
        for _i in range(n):
            activity = _upcoming(world)
            signup = services.activity_signup(activity=activity, user=resident, now=timezone.now())
            assert signup.status == SignUp.Status.SIGNED_UP
            running = _running(world, resident)
            services.attendance_check_in(activity=running, user=resident, now=timezone.now())

    fill(1)
    client.get(HOME)  # warm the session and content-type caches
    with django_assert_max_num_queries(14) as few:
        client.get(HOME)
    fill(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(HOME)
    assert len(response.context["upcoming"]) == 11
    assert len(response.context["attendances"]) == 5  # the latest; the hours page has all


def test_upcoming_lists_only_activities_the_volunteer_may_join(
    client: Any, world: Any, resident: Any
) -> None:
    now = timezone.now()
    starts = now + dt.timedelta(days=1)
    team = TeamFactory(community=world.home)
    open_one = ActivityFactory(community=world.home, starts_at=starts, ends_at=starts + HOUR)
    team_only = ActivityFactory(
        community=world.home,
        team=team,
        audience=Activity.Audience.TEAM,
        starts_at=starts,
        ends_at=starts + HOUR,
    )
    party_only = ActivityFactory(
        community=world.home,
        audience=Activity.Audience.PARTY,
        starts_at=starts,
        ends_at=starts + HOUR,
    )
    client.force_login(resident)
    shown = {a.pk for a in client.get(reverse("volunteers:home")).context["upcoming"]}
    assert open_one.pk in shown and team_only.pk not in shown and party_only.pk not in shown
    TeamMember.objects.create(team=team, user=resident, joined_at=now)
    shown = {a.pk for a in client.get(reverse("volunteers:home")).context["upcoming"]}
    assert team_only.pk in shown and party_only.pk not in shown


def test_a_party_member_from_a_partner_unit_sees_and_joins_the_communitys_activities(
    client: Any, world: Any, staff: Any
) -> None:
    member = UserFactory()  # lives elsewhere: no household, no team
    now = timezone.now()
    registration = services.party_member_register(
        community=world.home,
        name="党员",
        phone="13900000000",
        employer="区税务局",
        party_branch="第一支部",
        user=member,
        now=now,
    )
    client.force_login(member)
    assert client.get(reverse("volunteers:home")).status_code == 404  # not confirmed yet
    post = PostFactory(community=world.home)
    services.registration_confirm(
        registration=registration, post=post, duties="", actor=staff, now=now
    )
    activity = _upcoming(world, audience=Activity.Audience.PARTY, post=post)
    shown = {a.pk for a in client.get(reverse("volunteers:home")).context["upcoming"]}
    assert activity.pk in shown
    client.post(reverse("volunteers:signup", args=[activity.pk]))
    assert SignUp.objects.get(activity=activity, user=member).status == SignUp.Status.SIGNED_UP


def test_home_shows_the_next_fifteen_and_the_rest_on_request(
    client: Any, world: Any, resident: Any
) -> None:
    for _i in range(17):
        _upcoming(world)
    client.force_login(resident)
    response = client.get(HOME)
    assert len(response.context["upcoming"]) == 15
    assert b'data-testid="more-upcoming"' in response.content
    response = client.get(HOME + "?all=1")
    assert len(response.context["upcoming"]) == 17
    assert b'data-testid="more-upcoming"' not in response.content
