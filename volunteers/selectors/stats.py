"""A community's volunteering statistics: headcount, active members, and the year's
confirmed hours per team, per month and per post.

The hours come from one aggregate query grouped by (team, post, month); the totals per
team, per month and per post are sums over its rows, so the page, the API, the export
and the benchmark read the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, ExtractMonth
from django.utils import timezone

from community.models import Community
from volunteers.models import Attendance, PartyMemberRegistration, Team, TeamMember
from volunteers.services.common import is_community_staff

ACTIVE_DAYS = 90  # a member is active with a confirmed attendance in the last 90 days


@dataclass(frozen=True)
class HoursRow:
    team_id: int | None
    team_name: str
    post_id: int | None
    post_name: str
    month: int
    attendances: int
    hours: Decimal


@dataclass
class HoursStatistics:
    """The year's confirmed hours of a community; `rows` is the one query's result."""

    year: int
    rows: list[HoursRow] = field(default_factory=list)

    def _by(self, key: Any) -> list[tuple[Any, Decimal, int]]:
        hours: dict[Any, Decimal] = defaultdict(Decimal)
        counts: dict[Any, int] = defaultdict(int)
        for row in self.rows:
            hours[key(row)] += row.hours
            counts[key(row)] += row.attendances
        return [(k, hours[k], counts[k]) for k in hours]

    @property
    def total_hours(self) -> Decimal:
        return sum((row.hours for row in self.rows), Decimal(0))

    @property
    def total_attendances(self) -> int:
        return sum(row.attendances for row in self.rows)

    @property
    def by_team(self) -> list[tuple[str, Decimal, int]]:
        """(team name or "", hours, attendances), most hours first."""
        rows = self._by(lambda r: r.team_name)
        return sorted(rows, key=lambda t: (-t[1], t[0]))

    @property
    def by_post(self) -> list[tuple[str, Decimal, int]]:
        rows = self._by(lambda r: r.post_name)
        return sorted(rows, key=lambda t: (-t[1], t[0]))

    @property
    def by_month(self) -> list[tuple[int, Decimal, int]]:
        """All twelve months in order, zero where nothing was confirmed."""
        found = {m: (h, n) for m, h, n in self._by(lambda r: r.month)}
        return [(m, *found.get(m, (Decimal(0), 0))) for m in range(1, 13)]


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The local (Asia/Shanghai) calendar year as aware datetimes [start, end)."""
    tz = timezone.get_current_timezone()
    return (
        dt.datetime(year, 1, 1, tzinfo=tz),
        dt.datetime(year + 1, 1, 1, tzinfo=tz),
    )


def hours_statistics_query(*, community_id: int, year: int) -> Any:
    """The one aggregate query: confirmed hours grouped by team, post and local month."""
    start, end = year_bounds(year)
    return (
        Attendance.objects.filter(
            activity__community_id=community_id,
            activity__starts_at__gte=start,
            activity__starts_at__lt=end,
            confirmed_at__isnull=False,
        )
        .values(
            team_ref=F("activity__team_id"),
            team_label=F("activity__team__name"),
            post_ref=F("activity__post_id"),
            post_label=F("activity__post__name"),
            month=ExtractMonth("activity__starts_at", tzinfo=timezone.get_current_timezone()),
        )
        .annotate(
            attendances=Count("pk"),
            hours=Sum(Coalesce("corrected_hours", "hours")),
        )
        .order_by()
    )


def hours_statistics(*, user: Any, community: Community, year: int) -> HoursStatistics | None:
    """The year's hours for community staff; None for anyone else."""
    if not is_community_staff(user, community.pk):
        return None
    rows = [
        HoursRow(
            team_id=r["team_ref"],
            team_name=r["team_label"] or "",
            post_id=r["post_ref"],
            post_name=r["post_label"] or "",
            month=r["month"],
            attendances=r["attendances"],
            hours=r["hours"] or Decimal(0),
        )
        for r in hours_statistics_query(community_id=community.pk, year=year)
    ]
    return HoursStatistics(year=year, rows=rows)


@dataclass(frozen=True)
class Headcount:
    teams: int
    members: int  # distinct people on a team's roster now (accounts and outside members)
    active: int  # distinct volunteers with a confirmed attendance in the last ACTIVE_DAYS
    party_members: int  # confirmed registrations


def headcount(*, user: Any, community: Community, now: dt.datetime) -> Headcount | None:
    """Who volunteers in the community now; None for anyone but its staff."""
    if not is_community_staff(user, community.pk):
        return None
    on_roster = TeamMember.objects.filter(team__community=community, left_at__isnull=True)
    members = on_roster.aggregate(
        with_account=Count("user", distinct=True),
        without=Count("pk", filter=Q(user__isnull=True)),
    )
    active = (
        Attendance.objects.filter(
            activity__community=community,
            confirmed_at__isnull=False,
            activity__starts_at__gte=now - dt.timedelta(days=ACTIVE_DAYS),
        )
        .values("user")
        .distinct()
        .count()
    )
    return Headcount(
        teams=Team.objects.filter(community=community).count(),
        members=members["with_account"] + members["without"],
        active=active,
        party_members=PartyMemberRegistration.objects.filter(
            community=community, status=PartyMemberRegistration.Status.CONFIRMED
        ).count(),
    )
