"""The community office's volunteering pages: scoping, rosters, the calendar and a new
activity, confirmations (one and all shown, points once), statistics and no-show blocks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import pytest
from django.urls import reverse
from django.utils import timezone

from community.models import Membership
from community.tests.factories import CommunityFactory, MembershipFactory, UserFactory
from credit.models import PointsAccount
from volunteers import services
from volunteers.models import Activity, Attendance, NoShowBlock, Team, TeamMember
from volunteers.tests.factories import ActivityFactory, TeamFactory

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
PAGES = [
    "volunteers:office",
    "volunteers:office-teams",
    "volunteers:office-calendar",
    "volunteers:office-activity-new",
    "volunteers:office-confirmations",
    "volunteers:office-stats",
    "volunteers:office-blocks",
]


def _finished(world: Any, *volunteers: Any, hours: int = 2, team: Team | None = None) -> Activity:
    """An activity of `home` that ended a minute ago; every volunteer came and left."""
    end = timezone.now() - dt.timedelta(minutes=1)
    activity = ActivityFactory(
        community=world.home, team=team, starts_at=end - hours * HOUR, ends_at=end, capacity=30
    )
    for user in volunteers:
        services.activity_signup(activity=activity, user=user, now=activity.starts_at - HOUR)
        services.attendance_check_in(activity=activity, user=user, now=activity.starts_at)
        services.attendance_check_out(activity=activity, user=user, now=end)
    return cast(Activity, activity)


def _blocked(world: Any, staff: Any, settings: Any, user: Any) -> NoShowBlock:
    """The user missed a shift of `home`, which (at a limit of one) blocks them."""
    settings.LINLI_VOLUNTEER_NO_SHOW_LIMIT = 1
    activity = _finished(world)
    signup = services.activity_signup(activity=activity, user=user, now=activity.starts_at - HOUR)
    services.attendance_no_show(signup=signup, actor=staff, now=timezone.now())
    return NoShowBlock.objects.get(user=user, lifted_at__isnull=True)


def _staff_of(community: Any) -> Any:
    user = UserFactory()
    MembershipFactory(user=user, role=Membership.Role.COMMUNITY_STAFF, community=community)
    return user


def _texts(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- scoping -------------------------------------------------------------------------------


def test_outsider_resident_and_staff_of_another_community_are_denied(
    client: Any, world: Any, staff: Any, resident: Any, outsider: Any, settings: Any
) -> None:
    team = TeamFactory(community=world.home)
    member = services.team_member_add(team=team, actor=staff, now=timezone.now(), name="钱外援")
    volunteer = UserFactory()
    _finished(world, volunteer)
    attendance = Attendance.objects.get()
    block = _blocked(world, staff, settings, UserFactory())
    elsewhere = _staff_of(world.other)
    for user in (outsider, resident, elsewhere):
        client.force_login(user)
        for name in PAGES:
            url = reverse(name) + f"?community={world.home.pk}"
            assert client.get(url).status_code == 404, (user, name)
        assert client.get(reverse("volunteers:office-team", args=[team.pk])).status_code == 404
        posts = [
            reverse("volunteers:office-confirm", args=[attendance.pk]),
            reverse("volunteers:office-confirm-all"),
            reverse("volunteers:office-block-lift", args=[block.pk]),
            reverse("volunteers:office-team-remove", args=[team.pk, member.pk]),
            reverse("volunteers:office-team", args=[team.pk]),
            reverse("volunteers:office-activity-new"),
        ]
        for path in posts:
            url = f"{path}?community={world.home.pk}"
            response = client.post(url, {"ids": [attendance.pk], "how": "outside", "name": "x"})
            assert response.status_code == 404, (user, url)
    attendance.refresh_from_db()
    block.refresh_from_db()
    member.refresh_from_db()
    assert attendance.confirmed_at is None and block.lifted_at is None and member.left_at is None
    assert TeamMember.objects.count() == 1 and Activity.objects.count() == 2


def test_staff_cannot_switch_to_a_community_they_do_not_work_in(
    client: Any, world: Any, staff: Any
) -> None:
    client.force_login(staff)
    assert client.get(reverse("volunteers:office")).status_code == 200
    other = reverse("volunteers:office") + f"?community={world.other.pk}"
    assert client.get(other).status_code == 404
    assert client.get(reverse("volunteers:office") + "?community=nope").status_code == 404
    foreign = TeamFactory(community=world.other)
    assert client.get(reverse("volunteers:office-team", args=[foreign.pk])).status_code == 404


def test_staff_of_two_communities_pick_one_and_default_to_the_first(
    client: Any, world: Any
) -> None:
    first = CommunityFactory(street=world.street, name="A 社区")
    second = CommunityFactory(street=world.street, name="B 社区")
    both = _staff_of(first)
    MembershipFactory(user=both, role=Membership.Role.COMMUNITY_ADMIN, community=second)
    TeamFactory(community=first, name="甲巡逻队")
    TeamFactory(community=second, name="乙巡逻队")
    client.force_login(both)
    default = client.get(reverse("volunteers:office-teams"))
    assert default.context["community"] == first
    assert [t.name for t in default.context["teams"]] == ["甲巡逻队"]
    assert 'data-testid="community-picker"' in default.content.decode()
    picked = client.get(reverse("volunteers:office-teams") + f"?community={second.pk}")
    assert [t.name for t in picked.context["teams"]] == ["乙巡逻队"]
    # a superuser picks any community
    root = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(root)
    response = client.get(reverse("volunteers:office-teams") + f"?community={world.other.pk}")
    assert response.status_code == 200 and response.context["community"] == world.other


def test_every_office_page_renders_for_staff(
    client: Any, world: Any, staff: Any, settings: Any
) -> None:
    team = TeamFactory(community=world.home, name="平安巡逻队")
    services.team_member_add(team=team, actor=staff, now=timezone.now(), name="钱外援")
    _finished(world, UserFactory(name="孙志愿"), team=team)
    _blocked(world, staff, settings, UserFactory(name="周缺席"))
    client.force_login(staff)
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert response.context["community"] == world.home
    home = client.get(reverse("volunteers:office"))
    body = home.content.decode()
    assert home.context["todo"].confirmations == 1
    assert home.context["todo"].blocks == 1
    assert home.context["headcount"].teams == 1
    for name in PAGES[1:3] + PAGES[4:]:
        assert reverse(name) in body
    team_page = client.get(reverse("volunteers:office-team", args=[team.pk]))
    assert team_page.status_code == 200 and "钱外援" in team_page.content.decode()
    assert "孙志愿" in client.get(reverse("volunteers:office-confirmations")).content.decode()
    assert "周缺席" in client.get(reverse("volunteers:office-blocks")).content.decode()


# --- rosters -------------------------------------------------------------------------------


def test_teams_list_counts_current_members_and_names_the_leader(
    client: Any, world: Any, staff: Any
) -> None:
    leader = UserFactory(name="赵队长")
    team = TeamFactory(community=world.home, leader=leader)
    now = timezone.now()
    services.team_member_add(team=team, actor=staff, now=now, name="甲")
    gone = services.team_member_add(team=team, actor=staff, now=now, name="乙")
    services.team_member_leave(member=gone, actor=staff, now=now)
    client.force_login(staff)
    response = client.get(reverse("volunteers:office-teams"))
    row = response.context["teams"][0]
    assert row.member_count == 1
    assert "赵队长" in response.content.decode()


def test_staff_add_members_by_phone_or_as_outside_people_and_remove_them(
    client: Any, world: Any, staff: Any
) -> None:
    team = TeamFactory(community=world.home)
    volunteer = UserFactory(name="孙志愿", phone="13700001234")
    url = reverse("volunteers:office-team", args=[team.pk])
    client.force_login(staff)

    response = client.post(
        url, {"how": "account", "account-phone": "137 0000 1234", "account-role": "member"}
    )
    assert response.status_code == 302
    by_phone = TeamMember.objects.get(team=team, user=volunteer)
    assert (
        by_phone.role == TeamMember.Role.MEMBER and by_phone.history.first().history_user == staff
    )

    client.post(
        url,
        {
            "how": "outside",
            "outside-name": "钱党员",
            "outside-phone": "13912345678",
            "outside-employer": "区税务局",
            "outside-party_branch": "第二党支部",
            "outside-role": "leader",
        },
    )
    outside = TeamMember.objects.get(team=team, name="钱党员")
    assert (outside.employer, outside.party_branch, outside.role) == (
        "区税务局",
        "第二党支部",
        TeamMember.Role.LEADER,
    )

    page = client.get(url)
    body = page.content.decode()
    assert "137****1234" in body and "13700001234" not in body
    assert "139****5678" in body and "13912345678" not in body

    # nobody with that number; somebody already on the team: no new member, a message
    unknown = client.post(
        url, {"how": "account", "account-phone": "13600000000", "account-role": "member"}
    )
    assert unknown.status_code == 200 and unknown.context["by_phone"].errors
    again = client.post(
        url,
        {"how": "account", "account-phone": "13700001234", "account-role": "member"},
        follow=True,
    )
    assert _texts(again)
    assert TeamMember.objects.filter(team=team, left_at__isnull=True).count() == 2

    remove = reverse("volunteers:office-team-remove", args=[team.pk, by_phone.pk])
    client.post(remove)
    by_phone.refresh_from_db()
    assert by_phone.left_at is not None
    assert client.post(remove).status_code == 404  # no longer on the roster


# --- calendar and a new activity ------------------------------------------------------------


def _form(**overrides: Any) -> dict[str, Any]:
    starts = timezone.localtime() + dt.timedelta(days=2)
    data: dict[str, Any] = {
        "title": "楼道清理",
        "kind": Activity.Kind.CLEANUP,
        "place": "3号楼",
        "starts_at": f"{starts:%Y-%m-%dT09:00}",
        "ends_at": f"{starts:%Y-%m-%dT11:30}",
        "capacity": "8",
        "audience": Activity.Audience.OPEN,
        "signup_open": "on",
    }
    data.update(overrides)
    return data


def test_staff_create_an_activity_and_see_it_in_the_month(
    client: Any, world: Any, staff: Any
) -> None:
    team = TeamFactory(community=world.home)
    client.force_login(staff)
    form = client.get(reverse("volunteers:office-activity-new") + "?date=2030-05-06")
    assert 'value="2030-05-06T09:00"' in form.content.decode()
    response = client.post(
        reverse("volunteers:office-activity-new"), _form(team=team.pk, audience="team")
    )
    activity = Activity.objects.get()
    assert (activity.title, activity.team, activity.capacity) == ("楼道清理", team, 8)
    assert activity.audience == Activity.Audience.TEAM and activity.signup_open
    local = timezone.localtime(activity.starts_at)
    assert (local.hour, local.minute) == (9, 0)
    assert activity.history.get().history_user == staff
    assert response.status_code == 302
    calendar = client.get(response["Location"])
    body = calendar.content.decode()
    assert f'data-activity="{activity.pk}"' in body
    assert reverse("volunteers:activity", args=[activity.pk]) in body
    assert f'data-date="{local:%Y-%m-%d}"' in body


def test_a_wrong_activity_is_refused_with_the_form_and_nothing_is_created(
    client: Any, world: Any, staff: Any
) -> None:
    foreign = TeamFactory(community=world.other)
    client.force_login(staff)
    url = reverse("volunteers:office-activity-new")
    backwards = client.post(url, _form(ends_at=_form()["starts_at"].replace("09:00", "08:00")))
    assert backwards.status_code == 200 and "ends_at" in backwards.context["form"].errors
    past = client.post(url, _form(starts_at="2020-01-01T09:00", ends_at="2020-01-01T10:00"))
    assert "starts_at" in past.context["form"].errors
    no_team = client.post(url, _form(audience="team"))
    assert "team" in no_team.context["form"].errors
    # another community's team is not even a choice
    theirs = client.post(url, _form(team=foreign.pk))
    assert "team" in theirs.context["form"].errors
    assert not Activity.objects.exists()


def test_the_calendar_shows_the_month_asked_for(client: Any, world: Any, staff: Any) -> None:
    tz = timezone.get_current_timezone()
    may = ActivityFactory(
        community=world.home,
        title="五月巡逻",
        starts_at=dt.datetime(2030, 5, 31, 20, tzinfo=tz),
        ends_at=dt.datetime(2030, 5, 31, 22, tzinfo=tz),
    )
    june = ActivityFactory(
        community=world.home,
        title="六月巡逻",
        starts_at=dt.datetime(2030, 6, 1, 8, tzinfo=tz),
        ends_at=dt.datetime(2030, 6, 1, 9, tzinfo=tz),
    )
    ActivityFactory(  # another community's
        community=world.other,
        starts_at=dt.datetime(2030, 5, 10, 8, tzinfo=tz),
        ends_at=dt.datetime(2030, 5, 10, 9, tzinfo=tz),
    )
    client.force_login(staff)
    response = client.get(reverse("volunteers:office-calendar") + "?month=2030-05")
    shown = [a.pk for day in response.context["days"] for a in day.activities]
    assert shown == [may.pk]
    assert len(response.context["weeks"]) >= 5
    assert f'data-activity="{june.pk}"' not in response.content.decode()
    bad = client.get(reverse("volunteers:office-calendar") + "?month=soon")
    assert bad.status_code == 200 and bad.context["month"] == timezone.localdate().replace(day=1)


# --- confirmations -------------------------------------------------------------------------


@pytest.fixture
def second_resident(world: Any) -> Any:
    user = UserFactory(name="李秀英")
    world.resident_b.user = user
    world.resident_b.save(update_fields=["user"])
    return user


def test_staff_confirm_one_attendance_and_points_are_awarded(
    client: Any, world: Any, staff: Any, resident: Any, standard: None
) -> None:
    _finished(world, resident, hours=2)
    attendance = Attendance.objects.get()
    client.force_login(staff)
    url = reverse("volunteers:office-confirm", args=[attendance.pk])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    attendance.refresh_from_db()
    assert attendance.confirmed_by == staff
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 4
    assert client.post(url).status_code == 404  # no longer to do
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 4


def test_confirm_all_shown_confirms_each_once_and_skips_ones_own(
    client: Any, world: Any, staff: Any, resident: Any, second_resident: Any, standard: None
) -> None:
    _finished(world, resident, second_resident, staff, hours=1)
    ids = list(Attendance.objects.order_by("pk").values_list("pk", flat=True))
    client.force_login(staff)
    page = client.get(reverse("volunteers:office-confirmations"))
    own = Attendance.objects.get(user=staff)
    assert sorted(page.context["shown_ids"]) == sorted(set(ids) - {own.pk})
    url = reverse("volunteers:office-confirm-all")
    response = client.post(url, {"ids": ids}, follow=True)
    assert len(_texts(response)) == 2  # confirmed, and one's own skipped
    assert Attendance.objects.filter(confirmed_at__isnull=False).count() == 2
    own.refresh_from_db()
    assert own.confirmed_at is None
    # the same page sent again (a double click) pays nobody twice
    client.post(url, {"ids": ids})
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 2
    assert PointsAccount.objects.get(resident=world.resident_b).balance == 2
    remaining = client.get(reverse("volunteers:office-confirmations"))
    assert [a.pk for a, _phone in remaining.context["rows"]] == [own.pk]
    assert remaining.context["shown_ids"] == []


def test_confirm_all_ignores_attendances_of_another_community(
    client: Any, world: Any, staff: Any, resident: Any
) -> None:
    end = timezone.now() - dt.timedelta(minutes=1)
    theirs = ActivityFactory(community=world.other, starts_at=end - HOUR, ends_at=end)
    services.activity_signup(activity=theirs, user=resident, now=theirs.starts_at - HOUR)
    services.attendance_check_in(activity=theirs, user=resident, now=theirs.starts_at)
    services.attendance_check_out(activity=theirs, user=resident, now=end)
    foreign = Attendance.objects.get()
    client.force_login(staff)
    client.post(reverse("volunteers:office-confirm-all"), {"ids": [foreign.pk, "x"]})
    foreign.refresh_from_db()
    assert foreign.confirmed_at is None


def test_confirmations_are_paged_oldest_first(client: Any, world: Any, staff: Any) -> None:
    volunteers = [UserFactory() for _i in range(22)]
    _finished(world, *volunteers)
    client.force_login(staff)
    first = client.get(reverse("volunteers:office-confirmations"))
    assert len(first.context["rows"]) == 20 and first.context["page"].paginator.count == 22
    second = client.get(reverse("volunteers:office-confirmations") + "?page=2")
    assert len(second.context["rows"]) == 2
    pks = [a.pk for a, _p in first.context["rows"]] + [a.pk for a, _p in second.context["rows"]]
    assert pks == sorted(pks)


# --- statistics and blocks -----------------------------------------------------------------


def test_statistics_show_the_years_confirmed_hours_by_month_and_team(
    client: Any, world: Any, staff: Any, resident: Any, standard: None
) -> None:
    team = TeamFactory(community=world.home, name="平安巡逻队")
    activity = _finished(world, resident, hours=2, team=team)
    attendance = Attendance.objects.get()
    services.attendance_confirm(attendance=attendance, actor=staff, now=timezone.now())
    client.force_login(staff)
    year = timezone.localtime(activity.starts_at).year
    response = client.get(reverse("volunteers:office-stats") + f"?year={year}")
    assert response.status_code == 200
    assert response.context["stats"].total_hours == Decimal(2)
    month = timezone.localtime(activity.starts_at).month
    bars = {m.month: (hours, width) for m, hours, _n, width in response.context["months"]}
    assert bars[month] == (Decimal(2), 100)
    assert "平安巡逻队" in response.content.decode()
    empty = client.get(reverse("volunteers:office-stats") + f"?year={year - 1}")
    assert empty.context["stats"].total_hours == 0


def test_staff_lift_a_block_and_the_volunteer_may_sign_up_again(
    client: Any, world: Any, staff: Any, settings: Any
) -> None:
    absent = UserFactory(phone="13755556666")
    block = _blocked(world, staff, settings, absent)
    client.force_login(staff)
    page = client.get(reverse("volunteers:office-blocks"))
    body = page.content.decode()
    assert "137****6666" in body and "13755556666" not in body
    client.post(reverse("volunteers:office-block-lift", args=[block.pk]))
    block.refresh_from_db()
    assert block.lifted_by == staff and block.lifted_at is not None
    start = timezone.now() + HOUR
    later = ActivityFactory(community=world.home, starts_at=start, ends_at=start + HOUR)
    signup = services.activity_signup(activity=later, user=absent, now=timezone.now())
    assert signup.pk is not None
    assert client.get(reverse("volunteers:office-blocks")).context["rows"] == []


# --- query counts --------------------------------------------------------------------------


def _queries(client: Any, url: str, capture: Any) -> int:
    with capture(50) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_make_as_many_queries_for_ten_rows_as_for_one(
    client: Any,
    world: Any,
    staff: Any,
    settings: Any,
    django_assert_max_num_queries: Any,
) -> None:
    def one_more(n: int) -> None:
        team = TeamFactory(community=world.home, leader=UserFactory())
        services.team_member_add(team=team, actor=staff, now=timezone.now(), name=f"外援{n}")
        _finished(world, UserFactory(), team=team)
        _blocked(world, staff, settings, UserFactory())

    urls = [
        reverse("volunteers:office"),
        reverse("volunteers:office-teams"),
        reverse("volunteers:office-calendar"),
        reverse("volunteers:office-confirmations"),
        reverse("volunteers:office-blocks"),
        reverse("volunteers:office-stats"),
    ]
    one_more(0)
    client.force_login(staff)
    client.get(urls[0])  # warm the session
    one = {url: _queries(client, url, django_assert_max_num_queries) for url in urls}
    for n in range(1, 10):
        one_more(n)
    for url in urls:
        with django_assert_max_num_queries(one[url]):
            client.get(url)
    assert len(client.get(urls[1]).context["teams"]) == 10
    assert client.get(urls[3]).context["page"].paginator.count == 10
