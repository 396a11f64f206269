"""Reads of the volunteer phone pages and the leader's activity page.

Every read takes the acting user and returns only what that user may see: a volunteer
sees the activities of the communities they live in or serve in (a team membership
counts: an in-service party member from a partner unit lives elsewhere), a leader sees
the roster of the activities they run.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from community.models import Building, Community, Estate, Household, Unit
from community.scoping import scope_for
from volunteers.models import (
    Activity,
    Attendance,
    PartyMemberRegistration,
    SignUp,
    Team,
    TeamMember,
)
from volunteers.services.common import may_manage_activity

UPCOMING_LIMIT = 50
HOURS_LIMIT = 30


def _teams_served(user: Any) -> Q:
    """Teams the user leads or is on now. Membership as a subquery on the member's own
    rows: a join with OR would read every member of every team (bench: 24,000)."""
    on_roster = TeamMember.objects.filter(user=user, left_at__isnull=True).values("team_id")
    return Q(leader=user) | Q(pk__in=on_roster)


class Served(NamedTuple):
    """Where a user volunteers: the communities whose activities they see, the teams they
    lead or are on, the communities they reported to as a party member."""

    communities: frozenset[int]
    teams: frozenset[int]
    reported_to: frozenset[int]


NOWHERE = Served(frozenset(), frozenset(), frozenset())


def served(*, user: Any) -> Served:
    """Kept on the user object: a page asks more than once per request."""
    if user is None or not user.is_authenticated:
        return NOWHERE
    cached: Served | None = getattr(user, "_volunteer_served", None)
    if cached is None:
        cached = user._volunteer_served = _served(user)
    return cached


def volunteer_community_ids(*, user: Any) -> frozenset[int]:
    """Communities whose activities the user may see: home, teams served in or led, the
    community reported to, staff."""
    return served(user=user).communities


_TEAM, _PARTY, _HOME = 1, 2, 3


def _served(user: Any) -> Served:
    scope = scope_for(user)
    rows = _served_rows(user.pk, sorted(scope.household_ids))
    communities = {community for _tag, _ref, community in rows}
    if scope.everything:
        communities.update(Community.objects.values_list("pk", flat=True))
    communities.update(scope.community_ids)
    return Served(
        communities=frozenset(communities),
        teams=frozenset(ref for tag, ref, _c in rows if tag == _TEAM),
        reported_to=frozenset(ref for tag, ref, _c in rows if tag == _PARTY),
    )


def _served_rows(user_id: int, household_ids: list[int]) -> list[tuple[int, int, int]]:
    """(tag, id, community) of the teams the user leads or is on, the communities they
    reported to as a party member (an in-service party member serves there, not where
    they live) and their homes, in one round trip.

    Raw SQL on purpose, as scope_for's: every volunteer page asks, and composing this
    UNION with the ORM cost three times the query itself (make bench).
    """
    team, member = Team._meta.db_table, TeamMember._meta.db_table
    registration = PartyMemberRegistration._meta.db_table
    sql = (
        f"SELECT {_TEAM}, id, community_id FROM {team}"  # noqa: S608
        f" WHERE leader_id = %s OR id IN"
        f" (SELECT team_id FROM {member} WHERE user_id = %s AND left_at IS NULL)"
        f" UNION ALL SELECT {_PARTY}, community_id, community_id FROM {registration}"
        f" WHERE user_id = %s AND status = %s"
    )
    params: list[Any] = [
        user_id,
        user_id,
        user_id,
        PartyMemberRegistration.Status.CONFIRMED.value,
    ]
    if household_ids:
        sql += (
            f" UNION ALL SELECT {_HOME}, h.id, e.community_id"  # noqa: S608
            f" FROM {Household._meta.db_table} h"
            f" JOIN {Unit._meta.db_table} u ON u.id = h.unit_id"
            f" JOIN {Building._meta.db_table} b ON b.id = u.building_id"
            f" JOIN {Estate._meta.db_table} e ON e.id = b.estate_id"
            f" WHERE h.id IN ({', '.join(['%s'] * len(household_ids))})"
        )
        params += household_ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _may_join(user: Any) -> Q:
    """Activities whose audience includes the user (services.signups.may_sign_up's rule)."""
    Audience = Activity.Audience
    mine = served(user=user)
    return (
        Q(audience=Audience.OPEN)
        | Q(audience=Audience.TEAM, team_id__in=mine.teams)
        | Q(audience=Audience.PARTY, community_id__in=mine.reported_to)
    )


def upcoming_activities(
    *, user: Any, now: dt.datetime, limit: int | None = UPCOMING_LIMIT
) -> QuerySet[Activity]:
    """Activities of the user's communities not started yet and open for sign-up, soonest
    first, with the waiting-list length and the user's own sign-up on each row; the first
    `limit` of them, or all (for a paginator to slice) when `limit` is None."""
    communities = volunteer_community_ids(user=user)
    if not communities:
        return Activity.objects.none()
    waiting = (
        SignUp.objects.filter(activity=OuterRef("pk"), status=SignUp.Status.WAITING)
        .order_by()
        .values("activity")
        .annotate(n=Count("pk"))
    )
    rows = (
        Activity.objects.filter(community_id__in=communities, starts_at__gt=now, signup_open=True)
        .filter(_may_join(user))
        .annotate(
            places_left=ExpressionWrapper(
                F("capacity") - F("signed_up_count"), output_field=IntegerField()
            ),
            # Per row, after the LIMIT: a join and GROUP BY would count the waiting
            # lists of every upcoming activity first.
            waiting_count=Coalesce(Subquery(waiting.values("n")), 0),
            # The user's own active sign-up: at most one per activity (the unique
            # constraint signup_active_once), so a join that cannot repeat a row.
            mine=FilteredRelation(
                "signups", condition=Q(signups__user=user, signups__status__in=SignUp.ACTIVE)
            ),
            my_signup_id=F("mine__id"),
            my_status=F("mine__status"),
        )
        .order_by("starts_at", "pk")
    )
    return rows if limit is None else rows[:limit]


def volunteer_activity(*, user: Any, pk: int) -> Activity | None:
    """An activity of the user's communities, or one they signed up for; else None."""
    activity = Activity.objects.select_related("team", "community").filter(pk=pk).first()
    if activity is None:
        return None
    if activity.community_id in volunteer_community_ids(user=user):
        return activity
    if SignUp.objects.filter(activity=activity, user=user).exists():
        return activity
    return None


def waiting_count(*, activity: Activity) -> int:
    """How many wait for a place at the activity (for one the caller may already see)."""
    return SignUp.objects.filter(activity=activity, status=SignUp.Status.WAITING).count()


def own_signup(*, user: Any, pk: int) -> SignUp | None:
    """The user's own sign-up with this id, or None."""
    if user is None or not user.is_authenticated:
        return None
    return SignUp.objects.select_related("activity").filter(pk=pk, user=user).first()


def holds_a_place(*, user: Any, activity: Activity) -> bool:
    """True when the user holds a place (not the waiting list) at the activity."""
    if user is None or not user.is_authenticated:
        return False
    return SignUp.objects.filter(
        activity=activity, user=user, status=SignUp.Status.SIGNED_UP
    ).exists()


def own_attendance(*, user: Any, activity: Activity) -> Attendance | None:
    """The user's attendance at the activity, if any."""
    return Attendance.objects.filter(activity=activity, user=user).first()


def _of_activity(field: str) -> Subquery:
    # A column of the attendance's activity, read by primary key. A join says the same,
    # but PostgreSQL then hashes every activity (14,000 at bench scale) for a volunteer's
    # few hundred attendances: 10 ms for the page against 3.5 ms this way (make bench).
    return Subquery(Activity.objects.filter(pk=OuterRef("activity_id")).values(field)[:1])


def own_attendances(*, user: Any) -> QuerySet[Attendance]:
    """Every attendance of the user, latest activity first, with the activity's start, end
    and title (`activity_start`, `activity_end`, `activity_title`)."""
    if user is None or not user.is_authenticated:
        return Attendance.objects.none()
    return (
        Attendance.objects.filter(user=user)
        .annotate(
            activity_start=_of_activity("starts_at"),
            activity_end=_of_activity("ends_at"),
            activity_title=_of_activity("title"),
        )
        .order_by("-activity_start", "-pk")
    )


def user_attendances(*, user: Any, limit: int = HOURS_LIMIT) -> QuerySet[Attendance]:
    """The user's latest attendances, latest activity first, with their activities (read
    for these rows only, by primary key)."""
    return own_attendances(user=user).prefetch_related("activity")[:limit]


def user_confirmed_hours(*, user: Any) -> Decimal:
    """Total confirmed hours of the user (a leader's correction counts over check-in/out)."""
    if user is None or not user.is_authenticated:
        return Decimal(0)
    total = Attendance.objects.filter(user=user, confirmed_at__isnull=False).aggregate(
        total=Sum(Coalesce("corrected_hours", "hours"))
    )["total"]
    return total or Decimal(0)


def managed_activities(*, user: Any, now: dt.datetime) -> QuerySet[Activity]:
    """Activities the user runs (team leader or community staff) from a week ago on."""
    if user is None or not user.is_authenticated:
        return Activity.objects.none()
    scope = scope_for(user)
    since = now - dt.timedelta(days=7)
    if scope.everything:
        runs = Q()
    else:
        staff_of = Q(community_id__in=_staff_communities(scope))
        runs = Q(team__leader=user) | staff_of
    return Activity.objects.filter(runs, ends_at__gte=since).order_by("starts_at", "pk")[
        :UPCOMING_LIMIT
    ]


def _staff_communities(scope: Any) -> frozenset[int]:
    # scope.community_ids holds the communities of staff and admin memberships only.
    staff_roles = {"community_staff", "community_admin"}
    return scope.community_ids if scope.roles & staff_roles else frozenset()


def managed_activity(*, user: Any, pk: int) -> Activity | None:
    """The activity if the user runs it (team leader or community staff), else None."""
    activity = Activity.objects.select_related("team", "community").filter(pk=pk).first()
    if activity is None or not may_manage_activity(user, activity):
        return None
    return activity


def activity_roster(*, user: Any, activity: Activity) -> QuerySet[SignUp]:
    """The activity's active sign-ups with each one's attendance, places first then the
    waiting list in order; empty unless the user runs the activity."""
    if not may_manage_activity(user, activity):
        return SignUp.objects.none()
    return (
        SignUp.objects.filter(activity=activity, status__in=SignUp.ACTIVE)
        .select_related("user", "attendance")
        .order_by("status", "position", "created_at", "pk")  # signed_up < waiting
    )


def managed_attendance(*, user: Any, activity: Activity, pk: int) -> Attendance | None:
    """An attendance of the activity the user runs, else None."""
    if not may_manage_activity(user, activity):
        return None
    return Attendance.objects.filter(activity=activity, pk=pk).first()


def managed_signup(*, user: Any, activity: Activity, pk: int) -> SignUp | None:
    """A sign-up of the activity the user runs, else None."""
    if not may_manage_activity(user, activity):
        return None
    return SignUp.objects.select_related("user").filter(activity=activity, pk=pk).first()
