"""Reads of party members reporting in (下沉党员报到): the member's own registration, post
and tasks; the office's registrations to decide and the registered members with their
hours per quarter, which the employer unit's report (Excel) reads too.

The hours per quarter come from one aggregate query grouped by volunteer, a conditional
sum per quarter of the local (Asia/Shanghai) calendar year: an activity that starts on
31 March at 23:30 in Shanghai (15:30 UTC) counts in Q1; one that starts at 00:30 on
1 April counts in Q2 although it is still 31 March in UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.phone import mask_phone
from community.models import Community, Membership
from volunteers.models import Activity, Attendance, PartyMemberRegistration, Post, TeamMember
from volunteers.selectors.stats import ACTIVE_DAYS
from volunteers.services.common import STAFF_ROLES, is_community_staff

Status = PartyMemberRegistration.Status
TASKS_LIMIT = 20
PENDING_LIMIT = 200


# --- quarters of the local calendar year ----------------------------------------------------


def quarter_bounds(year: int) -> list[dt.datetime]:
    """The five local (Asia/Shanghai) instants that bound Q1..Q4 of the year."""
    tz = timezone.get_current_timezone()
    return [dt.datetime(year, month, 1, tzinfo=tz) for month in (1, 4, 7, 10)] + [
        dt.datetime(year + 1, 1, 1, tzinfo=tz)
    ]


def current_quarter(now: dt.datetime) -> tuple[int, int, dt.datetime, dt.datetime]:
    """(year, quarter 1-4, start, end) of the local quarter `now` falls in."""
    local = timezone.localtime(now)
    quarter = (local.month - 1) // 3 + 1
    bounds = quarter_bounds(local.year)
    return local.year, quarter, bounds[quarter - 1], bounds[quarter]


@dataclass(frozen=True)
class QuarterHours:
    """A volunteer's confirmed hours in the community, per local quarter of a year."""

    q1: Decimal = Decimal(0)
    q2: Decimal = Decimal(0)
    q3: Decimal = Decimal(0)
    q4: Decimal = Decimal(0)
    attendances: int = 0  # confirmed attendances in the year
    recent: int = 0  # confirmed attendances in the last ACTIVE_DAYS

    @property
    def quarters(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return (self.q1, self.q2, self.q3, self.q4)

    @property
    def total(self) -> Decimal:
        return self.q1 + self.q2 + self.q3 + self.q4


NO_HOURS = QuarterHours()


def quarterly_hours_query(
    *, community_id: int, year: int, now: dt.datetime, user_ids: Any = None
) -> Any:
    """The one aggregate query: per volunteer, the confirmed hours (a leader's correction
    over check-in/out) of the community's activities in each local quarter of the year,
    the year's attendances, and the attendances of the last ACTIVE_DAYS (who is active).

    `user_ids` (a queryset of user ids) narrows it to some volunteers, inside the same SQL.
    """
    bounds = quarter_bounds(year)
    since = now - dt.timedelta(days=ACTIVE_DAYS)
    starts = "activity__starts_at"
    in_year = Q(**{f"{starts}__gte": bounds[0], f"{starts}__lt": bounds[4]})
    recent = Q(**{f"{starts}__gte": since})
    counted = Coalesce("corrected_hours", "hours")
    quarters = {
        f"q{index + 1}": Sum(
            counted,
            filter=Q(**{f"{starts}__gte": bounds[index], f"{starts}__lt": bounds[index + 1]}),
        )
        for index in range(4)
    }
    rows = Attendance.objects.filter(
        in_year | recent, activity__community_id=community_id, confirmed_at__isnull=False
    )
    if user_ids is not None:
        rows = rows.filter(user_id__in=user_ids)
    return (
        rows.values("user_id")
        .annotate(
            **quarters,
            attendances=Count("pk", filter=in_year),
            recent=Count("pk", filter=recent),
        )
        .order_by()
    )


def _hours_by_user(rows: Any) -> dict[int, QuarterHours]:
    return {
        row["user_id"]: QuarterHours(
            q1=row["q1"] or Decimal(0),
            q2=row["q2"] or Decimal(0),
            q3=row["q3"] or Decimal(0),
            q4=row["q4"] or Decimal(0),
            attendances=row["attendances"],
            recent=row["recent"],
        )
        for row in rows
    }


# --- the office: which community -----------------------------------------------------------


def office_communities(*, user: Any) -> QuerySet[Community]:
    """Communities whose party members the user manages: where they are staff (all for a
    superuser), by name."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Community.objects.none()
    if user.is_superuser:
        return Community.objects.order_by("name", "pk")
    staff_of = Membership.objects.filter(
        user=user, is_active=True, role__in=STAFF_ROLES, community__isnull=False
    ).values("community_id")
    return Community.objects.filter(pk__in=staff_of).order_by("name", "pk")


def office_community(*, user: Any, pk: int | None) -> Community | None:
    """The community `pk` if the user is its staff; without `pk` the first one they staff."""
    communities = office_communities(user=user)
    if pk is not None:
        communities = communities.filter(pk=pk)
    return communities.first()


# --- the office: registrations and members -------------------------------------------------


def pending_registrations(*, user: Any, community: Community) -> QuerySet[PartyMemberRegistration]:
    """Registrations waiting for the community's staff to decide, oldest first."""
    if not is_community_staff(user, community.pk):
        return PartyMemberRegistration.objects.none()
    return PartyMemberRegistration.objects.filter(
        community=community, status=Status.PENDING
    ).order_by("created_at", "pk")[:PENDING_LIMIT]


def decidable_registration(*, user: Any, pk: int) -> PartyMemberRegistration | None:
    """A registration of a community the user staffs, else None."""
    registration = PartyMemberRegistration.objects.select_related("community").filter(pk=pk).first()
    if registration is None or not is_community_staff(user, registration.community_id):
        return None
    return registration


def community_posts(*, user: Any, community: Community) -> QuerySet[Post]:
    """The community's public-service posts, for its staff, in the order they were set up."""
    if not is_community_staff(user, community.pk):
        return Post.objects.none()
    return Post.objects.filter(community=community).order_by("pk")


@dataclass(frozen=True)
class MemberRow:
    """A confirmed party member of the community with their hours in the chosen year."""

    registration: PartyMemberRegistration
    phone: str  # masked: 138****8000
    hours: QuarterHours

    @property
    def active(self) -> bool:
        """A confirmed attendance in the last ACTIVE_DAYS days."""
        return self.hours.recent > 0


def _confirmed(community: Community, employer: str | None) -> QuerySet[PartyMemberRegistration]:
    registrations = PartyMemberRegistration.objects.filter(
        community=community, status=Status.CONFIRMED
    )
    if employer is not None:
        registrations = registrations.filter(employer=employer)
    return registrations


def registered_members(
    *,
    user: Any,
    community: Community,
    year: int,
    now: dt.datetime,
    employer: str | None = None,
) -> list[MemberRow] | None:
    """Staff: the community's confirmed party members (of one employer unit if given) by
    employer and name, each with the year's hours per quarter; None for anyone else.

    Three queries whatever the number of members: the staff check, the registrations,
    and the one aggregate of hours.
    """
    if not is_community_staff(user, community.pk):
        return None
    registrations = _confirmed(community, employer)
    members = list(registrations.select_related("post").order_by("employer", "name", "pk"))
    if not members:
        return []
    hours = _hours_by_user(
        quarterly_hours_query(
            community_id=community.pk,
            year=year,
            now=now,
            user_ids=registrations.filter(user__isnull=False).values("user_id"),
        )
    )
    return [
        MemberRow(
            registration=member,
            phone=mask_phone(member.phone),
            hours=hours.get(member.user_id, NO_HOURS) if member.user_id else NO_HOURS,
        )
        for member in members
    ]


def member_employers(*, user: Any, community: Community) -> list[str]:
    """Staff: the employer units of the community's confirmed party members, by name."""
    if not is_community_staff(user, community.pk):
        return []
    return list(
        _confirmed(community, None)
        .order_by("employer")
        .values_list("employer", flat=True)
        .distinct()
    )


# --- the member: my registration, my post, my tasks ----------------------------------------


def registration_communities() -> QuerySet[Community]:
    """Every community a party member may report to, by name (the form's choices)."""
    return Community.objects.order_by("name", "pk")


def has_open_registration(*, user: Any, community: Community) -> bool:
    """True when the user's registration with the community is pending or confirmed."""
    if user is None or not user.is_authenticated:
        return False
    return PartyMemberRegistration.objects.filter(
        user=user, community=community, status__in=(Status.PENDING, Status.CONFIRMED)
    ).exists()


def own_registrations(*, user: Any) -> QuerySet[PartyMemberRegistration]:
    """The user's own registrations, newest first, with the community and the post."""
    if user is None or not user.is_authenticated:
        return PartyMemberRegistration.objects.none()
    return (
        PartyMemberRegistration.objects.filter(user=user)
        .select_related("community", "post")
        .order_by("-created_at", "-pk")
    )


def post_tasks(
    *, user: Any, registration: PartyMemberRegistration, now: dt.datetime
) -> QuerySet[Activity]:
    """The upcoming activities of the member's post in the community that they may join,
    soonest first: only for the member themself once the registration is confirmed."""
    if (
        user is None
        or registration.user_id != user.pk
        or registration.status != Status.CONFIRMED
        or registration.post_id is None
    ):
        return Activity.objects.none()
    # A team-only shift of the post is a task only for the team's members and leader.
    on_team = TeamMember.objects.filter(
        team_id=OuterRef("team_id"), user=user, left_at__isnull=True
    )
    may_join = ~Q(audience=Activity.Audience.TEAM) | Q(team__leader=user) | Exists(on_team)
    return Activity.objects.filter(
        may_join,
        community_id=registration.community_id,
        post_id=registration.post_id,
        starts_at__gt=now,
    ).order_by("starts_at", "pk")[:TASKS_LIMIT]


def own_quarter_hours(*, user: Any, community_id: int, now: dt.datetime) -> Decimal:
    """The user's confirmed hours in the community's activities this local quarter."""
    if user is None or not user.is_authenticated:
        return Decimal(0)
    _year, _quarter, start, end = current_quarter(now)
    total = Attendance.objects.filter(
        user=user,
        activity__community_id=community_id,
        activity__starts_at__gte=start,
        activity__starts_at__lt=end,
        confirmed_at__isnull=False,
    ).aggregate(total=Sum(Coalesce("corrected_hours", "hours")))["total"]
    return total or Decimal(0)
