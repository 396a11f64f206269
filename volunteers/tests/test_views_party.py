"""Party members reporting in (下沉党员报到): the member registers, the office confirms
with a post and duties, the member sees the post, duties and tasks; the office sees the
registered members with their hours per quarter, in one aggregate query."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from volunteers import services
from volunteers.models import Activity, PartyMemberRegistration, Post
from volunteers.selectors.party import current_quarter, registered_members
from volunteers.tests.factories import ActivityFactory, PostFactory, TeamFactory

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
REGISTRATIONS = reverse("volunteers:party-registrations")
MINE = reverse("volunteers:party-mine")


def _registered(world: Any, user: Any, *, employer: str = "市税务局") -> PartyMemberRegistration:
    return services.party_member_register(
        community=world.home,
        name=user.name,
        phone=user.phone,
        employer=employer,
        party_branch="第一党支部",
        user=user,
        now=NOW - 300 * 24 * HOUR,
    )


def _member(world: Any, staff: Any, post: Post, **kwargs: Any) -> tuple[Any, Any]:
    """A user whose registration with `home` is confirmed at `post`."""
    user = UserFactory()
    registration = _registered(world, user, **kwargs)
    services.registration_confirm(
        registration=registration, post=post, duties="", actor=staff, now=NOW
    )
    return user, registration


def _served(
    world: Any,
    user: Any,
    confirmer: Any,
    start: dt.datetime,
    *,
    hours: int = 1,
    corrected: str | None = None,
    confirm: bool = True,
    community: Any = None,
) -> Activity:
    """`user` came to an activity starting at `start` for `hours`; confirmed by default."""
    activity = ActivityFactory(
        community=community or world.home, starts_at=start, ends_at=start + hours * HOUR
    )
    services.activity_signup(activity=activity, user=user, now=start - HOUR)
    services.attendance_check_in(activity=activity, user=user, now=start)
    services.attendance_check_out(activity=activity, user=user, now=start + hours * HOUR)
    attendance = activity.attendances.get(user=user)
    if corrected is not None:
        services.attendance_correct(
            attendance=attendance, hours=Decimal(corrected), actor=confirmer, now=start
        )
    if confirm:
        services.attendance_confirm(attendance=attendance, actor=confirmer, now=start + 2 * HOUR)
    return cast(Activity, activity)


def _other_staff(world: Any) -> Any:
    user = UserFactory()
    MembershipFactory(user=user, role=Membership.Role.COMMUNITY_STAFF, community=world.other)
    return user


def test_outsiders_residents_and_other_staff_are_denied_the_office_page(
    client: Any, world: Any, staff: Any, resident: Any, outsider: Any
) -> None:
    post = PostFactory(community=world.home)
    pending = _registered(world, UserFactory())
    for user in (outsider, resident, _other_staff(world)):
        client.force_login(user)
        assert client.get(f"{REGISTRATIONS}?community={world.home.pk}").status_code == 404
        confirm = reverse("volunteers:party-confirm", args=[pending.pk])
        assert client.post(confirm, {"post": post.pk}).status_code == 404
        decline = reverse("volunteers:party-decline", args=[pending.pk])
        assert client.post(decline).status_code == 404
    pending.refresh_from_db()
    assert pending.status == PartyMemberRegistration.Status.PENDING
    for user in (outsider, resident):  # no community of their own to fall back to
        client.force_login(user)
        assert client.get(REGISTRATIONS).status_code == 404
    client.force_login(staff)
    assert client.get(f"{REGISTRATIONS}?community={world.other.pk}").status_code == 404


def test_anonymous_visitor_is_sent_to_log_in(client: Any, world: Any) -> None:
    for url in (reverse("volunteers:party-register"), MINE, REGISTRATIONS):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response.url


def test_member_registers_staff_confirm_with_a_post_and_the_member_sees_post_and_tasks(
    client: Any, world: Any, staff: Any, outsider: Any
) -> None:
    patrol = PostFactory(
        community=world.home, name="治安巡逻", duties="巡查楼院", schedule="每周六 9:00-11:00"
    )
    other_post = PostFactory(community=world.home, name="交通值守")
    soon = timezone.now() + 24 * HOUR
    task = ActivityFactory(
        community=world.home, post=patrol, title="周六治安巡逻", starts_at=soon, ends_at=soon + HOUR
    )
    ActivityFactory(
        community=world.home, post=other_post, title="路口值守", starts_at=soon, ends_at=soon + HOUR
    )
    ActivityFactory(
        community=world.home,
        post=patrol,
        team=TeamFactory(community=world.home),
        audience=Activity.Audience.TEAM,
        title="巡逻队内部训练",
        starts_at=soon,
        ends_at=soon + HOUR,
    )
    ActivityFactory(
        community=world.home,
        post=patrol,
        title="上周巡逻",
        starts_at=soon - 10 * 24 * HOUR,
        ends_at=soon - 10 * 24 * HOUR + HOUR,
    )

    # The member (a partner unit's staff, no role in the community) reports in.
    client.force_login(outsider)
    page = client.get(reverse("volunteers:party-register"))
    assert page.status_code == 200
    form = page.context["form"]
    assert form["name"].value() == outsider.name and form["phone"].value() == outsider.phone
    assert world.home.name in page.content.decode() and world.other.name in page.content.decode()
    response = client.post(
        reverse("volunteers:party-register"),
        {
            "community": world.home.pk,
            "name": "陈党员",
            "phone": outsider.phone,
            "employer": "市税务局",
            "party_branch": "第三党支部",
            "skills": "法律咨询",
            "free_hours": "周六上午",
        },
    )
    assert response.status_code == 302 and response.url == MINE
    registration = PartyMemberRegistration.objects.get()
    assert (registration.user, registration.community, registration.status) == (
        outsider,
        world.home,
        PartyMemberRegistration.Status.PENDING,
    )
    mine = client.get(MINE).content.decode()
    assert 'data-status="pending"' in mine and "周六治安巡逻" not in mine

    # The office sees it with the phone masked, and confirms it at the patrol post.
    client.force_login(staff)
    page = client.get(REGISTRATIONS).content.decode()
    assert f'id="pending-{registration.pk}"' in page
    assert outsider.phone not in page and f"{outsider.phone[:3]}****{outsider.phone[-4:]}" in page
    assert 'data-duties="巡查楼院"' in page
    response = client.post(
        reverse("volunteers:party-confirm", args=[registration.pk]),
        {"post": patrol.pk, "duties": "负责3号楼周边巡查"},
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == PartyMemberRegistration.Status.CONFIRMED
    assert (registration.post, registration.duties, registration.confirmed_by) == (
        patrol,
        "负责3号楼周边巡查",
        staff,
    )
    assert f'id="member-{registration.pk}"' in client.get(REGISTRATIONS).content.decode()

    # The member sees the post, its schedule, their duties and the post's coming tasks.
    client.force_login(outsider)
    response = client.get(MINE)
    mine = response.content.decode()
    assert 'data-status="confirmed"' in mine
    assert "治安巡逻" in mine and "每周六 9:00-11:00" in mine and "负责3号楼周边巡查" in mine
    assert [a.pk for a in response.context["entries"][0]["tasks"]] == [task.pk]
    assert "路口值守" not in mine and "上周巡逻" not in mine and "巡逻队内部训练" not in mine
    assert f'href="{reverse("volunteers:home")}#activity-{task.pk}"' in mine


def test_a_second_registration_with_the_same_community_is_refused(
    client: Any, world: Any, outsider: Any
) -> None:
    _registered(world, outsider)
    client.force_login(outsider)
    data = {
        "community": world.home.pk,
        "name": "陈党员",
        "phone": outsider.phone,
        "employer": "市税务局",
        "party_branch": "第三党支部",
    }
    response = client.post(reverse("volunteers:party-register"), data)
    assert response.status_code == 200 and response.context["form"].errors
    assert PartyMemberRegistration.objects.count() == 1
    data["community"] = world.other.pk  # another community is another registration
    assert client.post(reverse("volunteers:party-register"), data).status_code == 302
    assert PartyMemberRegistration.objects.count() == 2


def test_staff_decline_and_a_post_of_another_community_is_refused(
    client: Any, world: Any, staff: Any
) -> None:
    elsewhere = PostFactory(community=world.other)
    one = _registered(world, UserFactory())
    two = _registered(world, UserFactory())
    client.force_login(staff)
    client.post(reverse("volunteers:party-confirm", args=[one.pk]), {"post": elsewhere.pk})
    one.refresh_from_db()
    assert one.status == PartyMemberRegistration.Status.PENDING and one.post is None
    client.post(reverse("volunteers:party-decline", args=[two.pk]))
    two.refresh_from_db()
    assert two.status == PartyMemberRegistration.Status.DECLINED
    assert f'id="pending-{two.pk}"' not in client.get(REGISTRATIONS).content.decode()


def test_quarterly_hours_count_corrections_local_quarters_and_only_confirmed_hours(
    world: Any, staff: Any, standard: None, django_assert_num_queries: Any
) -> None:
    post = PostFactory(community=world.home, name="治安巡逻")
    member, _registration = _member(world, staff, post)
    idle, _idle_registration = _member(world, staff, post, employer="区教育局")
    # 31 March 23:30 in Shanghai is 15:30 UTC: Q1. 1 April 00:30 there is 31 March in UTC: Q2.
    march_end = dt.datetime(2026, 3, 31, 23, 30, tzinfo=SHANGHAI)
    april_start = dt.datetime(2026, 4, 1, 0, 30, tzinfo=SHANGHAI)
    _served(world, member, staff, march_end, hours=1)
    _served(world, member, staff, april_start, hours=2, corrected="1.5")  # the correction counts
    _served(world, member, staff, dt.datetime(2026, 8, 1, 9, 0, tzinfo=SHANGHAI), hours=3)
    _served(world, member, staff, dt.datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI), hours=2)
    # Not counted: unconfirmed, last year, another community.
    _served(world, member, staff, dt.datetime(2026, 11, 1, 9, 0, tzinfo=SHANGHAI), confirm=False)
    _served(world, member, staff, dt.datetime(2025, 12, 31, 23, 0, tzinfo=SHANGHAI), hours=4)
    other_staff = _other_staff(world)
    _served(
        world,
        member,
        other_staff,
        dt.datetime(2026, 5, 1, 9, 0, tzinfo=SHANGHAI),
        hours=5,
        community=world.other,
    )

    # The staff check (the scope, read once per request), the registrations and the one
    # aggregate, however many members.
    staff._linli_scope = None
    with django_assert_num_queries(3):
        rows = registered_members(user=staff, community=world.home, year=2026, now=NOW)
    assert rows is not None
    by_user = {row.registration.user_id: row for row in rows}
    hours = by_user[member.pk].hours
    assert hours.quarters == (Decimal(1), Decimal("1.5"), Decimal(3), Decimal(2))
    assert hours.total == Decimal("7.5") and hours.attendances == 4
    assert by_user[member.pk].active  # served on 10 October, within 90 days of NOW
    assert by_user[idle.pk].hours.total == Decimal(0) and not by_user[idle.pk].active
    assert [row.registration.employer for row in rows] == sorted(["市税务局", "区教育局"])
    last_year = registered_members(user=staff, community=world.home, year=2025, now=NOW)
    assert last_year is not None
    assert {r.registration.user_id: r.hours.total for r in last_year}[member.pk] == Decimal(4)
    assert registered_members(user=other_staff, community=world.home, year=2026, now=NOW) is None


def test_office_page_shows_each_members_quarters_with_masked_phones(
    client: Any, world: Any, staff: Any, standard: None
) -> None:
    post = PostFactory(community=world.home)
    member, registration = _member(world, staff, post)
    _served(world, member, staff, dt.datetime(2026, 3, 31, 23, 30, tzinfo=SHANGHAI), hours=2)
    client.force_login(staff)
    page = client.get(f"{REGISTRATIONS}?community={world.home.pk}&year=2026").content.decode()
    row = page[page.index(f'id="member-{registration.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-total="2"' in row and '<td class="text-end" data-q="1">2</td>' in row
    assert member.phone not in page
    assert 'name="employer"' in page and '<option value="市税务局">' in page
    assert client.get(f"{REGISTRATIONS}?year=2026x").status_code == 404


def test_a_member_sees_their_hours_this_quarter(
    client: Any, world: Any, staff: Any, standard: None
) -> None:
    post = PostFactory(community=world.home)
    member, _registration = _member(world, staff, post)
    _year, _quarter, start, _end = current_quarter(timezone.now())
    _served(world, member, staff, start + HOUR, hours=2, corrected="1.75")
    _served(world, member, staff, start - 2 * HOUR)  # the quarter before
    client.force_login(member)
    page = client.get(MINE).content.decode()
    assert 'data-testid="quarter-hours">1.75<' in page


def test_office_page_query_count_does_not_grow_with_members(
    client: Any, world: Any, staff: Any, standard: None
) -> None:
    post = PostFactory(community=world.home)
    member, _registration = _member(world, staff, post)
    _served(world, member, staff, dt.datetime(2026, 5, 1, 9, 0, tzinfo=SHANGHAI))
    _registered(world, UserFactory())
    client.force_login(staff)
    url = f"{REGISTRATIONS}?community={world.home.pk}&year=2026"

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for n in range(4):
        more, _r = _member(world, staff, post, employer=f"单位{n}")
        _served(world, more, staff, dt.datetime(2026, 6, 1 + n, 9, 0, tzinfo=SHANGHAI))
        _registered(world, UserFactory())
    assert count() == few
