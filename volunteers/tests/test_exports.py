"""The office's Excel ledgers (台账): team rosters, the year's hours ledger with its totals,
and the per-member report for an employer unit; masked phones, local wall-clock times,
staff of the community only, and a query count that does not grow with the rows."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from volunteers import services
from volunteers.models import Activity, TeamMember
from volunteers.tests.factories import ActivityFactory, PostFactory, TeamFactory

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
ROSTER = reverse("volunteers:export-roster")
HOURS = reverse("volunteers:export-hours")
EMPLOYER = reverse("volunteers:export-employer")


def _masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def _book(response: Any) -> Any:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def _values(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _all_text(book: Any) -> str:
    return " ".join(
        str(value) for sheet in book.worksheets for row in _values(sheet) for value in row
    )


def _served(
    world: Any,
    user: Any,
    confirmer: Any,
    start: dt.datetime,
    *,
    hours: int = 1,
    corrected: str | None = None,
    confirm: bool = True,
    **activity: Any,
) -> Activity:
    made = cast(
        Activity,
        ActivityFactory(
            community=world.home, starts_at=start, ends_at=start + hours * HOUR, **activity
        ),
    )
    services.activity_signup(activity=made, user=user, now=start - HOUR)
    services.attendance_check_in(activity=made, user=user, now=start)
    services.attendance_check_out(activity=made, user=user, now=start + hours * HOUR)
    attendance = made.attendances.get(user=user)
    if corrected is not None:
        services.attendance_correct(
            attendance=attendance, hours=Decimal(corrected), actor=confirmer, now=start
        )
    if confirm:
        services.attendance_confirm(attendance=attendance, actor=confirmer, now=start + 2 * HOUR)
    return made


def _party_member(world: Any, staff: Any, post: Any, employer: str, name: str) -> Any:
    user = UserFactory(name=name)
    registration = services.party_member_register(
        community=world.home,
        name=name,
        phone=user.phone,
        employer=employer,
        party_branch=f"{employer}党支部",
        user=user,
        now=NOW,
    )
    services.registration_confirm(
        registration=registration, post=post, duties="", actor=staff, now=NOW
    )
    return user


def _staff_of(community: Any) -> Any:
    user = UserFactory()
    MembershipFactory(user=user, role=Membership.Role.COMMUNITY_STAFF, community=community)
    return user


def test_outsiders_residents_and_other_staff_get_no_export(
    client: Any, world: Any, resident: Any, outsider: Any
) -> None:
    other_staff = _staff_of(world.other)
    query = f"?community={world.home.pk}&year=2026&employer=市税务局"
    for user in (outsider, resident, other_staff):
        client.force_login(user)
        for url in (ROSTER, HOURS, EMPLOYER):
            assert client.get(url + query).status_code == 404


def test_roster_lists_every_teams_current_members_with_masked_phones(
    client: Any, world: Any, staff: Any
) -> None:
    patrol = TeamFactory(community=world.home, name="巡逻队")
    service = TeamFactory(community=world.home, name="便民服务队")
    elsewhere = TeamFactory(community=world.other, name="别处的队")
    leader: Any = UserFactory(name="赵队长")
    services.team_member_add(
        team=patrol, actor=staff, now=NOW, user=leader, role=TeamMember.Role.LEADER
    )
    services.team_member_add(
        team=patrol,
        actor=staff,
        now=NOW,
        name="钱党员",
        phone="13912345678",
        employer="市税务局",
        party_branch="第三党支部",
    )
    gone = services.team_member_add(team=service, actor=staff, now=NOW, name="孙离开")
    services.team_member_leave(member=gone, actor=staff, now=NOW + HOUR)
    services.team_member_add(team=service, actor=staff, now=NOW, resident=world.resident_a)
    services.team_member_add(team=elsewhere, actor=_staff_of(world.other), now=NOW, name="周别处")

    client.force_login(staff)
    book = _book(client.get(f"{ROSTER}?community={world.home.pk}"))
    rows = _values(book.worksheets[0])
    assert len(rows) == 4  # the header and three current members
    body = [(r[0], r[2], r[3], r[4], r[5], r[6]) for r in rows[1:]]
    joined = dt.datetime(2026, 11, 20)  # the local date NOW (10:00 in Shanghai)
    assert body == [
        ("便民服务队", "张建国", _masked(world.resident_a.phone), None, None, joined),
        ("巡逻队", "赵队长", _masked(leader.phone), None, None, joined),
        ("巡逻队", "钱党员", "139****5678", "市税务局", "第三党支部", joined),
    ]
    text = _all_text(book)
    assert "13912345678" not in text and leader.phone not in text
    assert "孙离开" not in text and "周别处" not in text


def _hours_export(client: Any, world: Any, year: int = 2026) -> Any:
    return _book(client.get(f"{HOURS}?community={world.home.pk}&year={year}"))


def test_hours_ledger_has_a_row_per_confirmed_attendance_and_the_totals(
    client: Any, world: Any, staff: Any, standard: None
) -> None:
    patrol = TeamFactory(community=world.home, name="巡逻队")
    post = PostFactory(community=world.home, name="治安巡逻")
    one: Any = UserFactory(name="陈志愿")
    two: Any = UserFactory(name="林志愿")
    # 31 January 23:30 in Shanghai (15:30 UTC): a January row with the local times.
    january = dt.datetime(2026, 1, 31, 23, 30, tzinfo=SHANGHAI)
    _served(world, one, staff, january, hours=2, team=patrol, post=post, title="夜间巡逻")
    _served(world, two, staff, dt.datetime(2026, 3, 7, 9, 0, tzinfo=SHANGHAI), corrected="0.5")
    _served(world, two, staff, dt.datetime(2026, 3, 8, 9, 0, tzinfo=SHANGHAI), confirm=False)
    _served(world, two, staff, dt.datetime(2025, 12, 31, 9, 0, tzinfo=SHANGHAI))

    client.force_login(staff)
    book = _hours_export(client, world)
    ledger, totals = book.worksheets
    rows = _values(ledger)
    assert len(rows) == 3  # the header, two confirmed attendances of 2026
    first = rows[1]
    assert first[:6] == [
        dt.datetime(2026, 1, 31),
        "夜间巡逻",
        "巡逻队",
        "治安巡逻",
        "陈志愿",
        _masked(one.phone),
    ]
    assert first[6] == dt.datetime(2026, 1, 31, 23, 30)  # check-in, Shanghai wall clock
    assert first[7] == dt.datetime(2026, 2, 1, 1, 30)
    assert first[8:11] == [2, None, 2]
    assert first[11] == staff.name
    second = rows[2]
    assert second[4:6] == ["林志愿", _masked(two.phone)]
    assert second[8:11] == [1, 0.5, 0.5]  # the correction is what counts
    text = _all_text(book)
    assert one.phone not in text and two.phone not in text

    sums = {(r[0], r[1]) for r in _values(totals) if r and r[0] is not None}
    assert ("巡逻队", 2) in sums and ("治安巡逻", 2) in sums
    assert ("2026-01", 2) in sums and ("2026-03", 0.5) in sums and ("2026-02", 0) in sums
    assert any(r[1] == 2.5 for r in _values(totals) if r)  # the grand total


def test_hours_export_query_count_does_not_grow_with_rows(
    client: Any, world: Any, staff: Any, standard: None
) -> None:
    team = TeamFactory(community=world.home)
    post = PostFactory(community=world.home)
    start = dt.datetime(2026, 5, 1, 9, 0, tzinfo=SHANGHAI)
    _served(world, UserFactory(), staff, start, team=team, post=post)
    client.force_login(staff)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            _hours_export(client, world)
        return len(queries)

    few = count()
    for day in range(1, 6):
        _served(world, UserFactory(), staff, start + day * 24 * HOUR, team=team, post=post)
    assert count() == few


def test_roster_export_query_count_does_not_grow_with_rows(
    client: Any, world: Any, staff: Any
) -> None:
    team = TeamFactory(community=world.home)
    services.team_member_add(team=team, actor=staff, now=NOW, user=UserFactory())
    client.force_login(staff)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            _book(client.get(f"{ROSTER}?community={world.home.pk}"))
        return len(queries)

    few = count()
    for _n in range(5):
        services.team_member_add(team=team, actor=staff, now=NOW, user=UserFactory())
    services.team_member_add(team=team, actor=staff, now=NOW, resident=world.resident_b)
    assert count() == few


def test_employer_report_lists_that_units_members_with_quarters(
    client: Any, world: Any, staff: Any, standard: None
) -> None:
    post = PostFactory(community=world.home, name="政策宣传")
    tax = _party_member(world, staff, post, "市税务局", "陈党员")
    idle = _party_member(world, staff, post, "市税务局", "林党员")
    school = _party_member(world, staff, post, "区教育局", "王党员")
    _served(world, tax, staff, dt.datetime(2026, 3, 31, 23, 30, tzinfo=SHANGHAI), hours=2)
    _served(world, tax, staff, dt.datetime(2026, 7, 1, 9, 0, tzinfo=SHANGHAI), corrected="1.5")
    _served(world, school, staff, dt.datetime(2026, 7, 1, 9, 0, tzinfo=SHANGHAI))

    client.force_login(staff)

    def export() -> Any:
        return client.get(f"{EMPLOYER}?community={world.home.pk}&year=2026&employer=市税务局")

    with CaptureQueriesContext(connection) as queries:
        book = _book(export())
    rows = _values(book.worksheets[0])
    assert [r[0] for r in rows[1:]] == ["林党员", "陈党员"]
    by_name = {r[0]: r for r in rows[1:]}
    chen = by_name["陈党员"]
    assert chen[1] == _masked(tax.phone) and chen[2] == "市税务局党支部" and chen[3] == "政策宣传"
    assert chen[5:11] == [2, 0, 1.5, 0, 3.5, 2]
    assert by_name["林党员"][5:11] == [0, 0, 0, 0, 0, 0]
    text = _all_text(book)
    assert "王党员" not in text and tax.phone not in text and idle.phone not in text

    more = [_party_member(world, staff, post, "市税务局", f"党员{n}") for n in range(4)]
    for user in more:
        _served(world, user, staff, dt.datetime(2026, 5, 1, 9, 0, tzinfo=SHANGHAI))
    with CaptureQueriesContext(connection) as again:
        assert len(_values(_book(export()).worksheets[0])) == 7
    assert len(again) == len(queries)


def test_employer_report_needs_an_employer(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    assert client.get(f"{EMPLOYER}?community={world.home.pk}&year=2026").status_code == 400
