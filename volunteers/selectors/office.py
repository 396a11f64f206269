"""Reads of the community office's volunteering pages: rosters, the activity calendar,
confirmations to do, no-show blocks and the counts of the office home.

Every read takes the acting user and answers only for the communities where that user is
community staff or admin (superusers: every community); for anyone else it is empty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.phone import normalize_phone
from community.models import Community
from community.scoping import scope_for
from volunteers.models import (
    Activity,
    Attendance,
    NoShowBlock,
    PartyMemberRegistration,
    Post,
    Team,
    TeamMember,
)
from volunteers.selectors.stats import year_bounds
from volunteers.services.common import STAFF_ROLES, is_community_staff


def office_communities(*, user: Any) -> QuerySet[Community]:
    """The communities whose volunteering office the user works in, by name."""
    scope = scope_for(user)
    if scope.everything:
        communities = Community.objects.all()
    elif scope.roles & {str(role) for role in STAFF_ROLES}:
        # scope.community_ids holds the communities of staff and admin memberships only.
        communities = Community.objects.filter(pk__in=scope.community_ids)
    else:
        return Community.objects.none()
    return communities.order_by("name", "pk")


def _staff(user: Any, community: Community) -> bool:
    return is_community_staff(user, community.pk)


@dataclass(frozen=True)
class OfficeTodo:
    """What is waiting for the office."""

    confirmations: int  # finished attendances nobody has confirmed yet
    registrations: int  # party members' registrations waiting for a decision
    blocks: int  # volunteers blocked from signing up until staff lift it


def office_todo(*, user: Any, community: Community) -> OfficeTodo:
    """The counts of the office home's "to do" list; zeros for anyone but staff."""
    if not _staff(user, community):
        return OfficeTodo(confirmations=0, registrations=0, blocks=0)
    return OfficeTodo(
        confirmations=_confirmations(community).count(),
        registrations=PartyMemberRegistration.objects.filter(
            community=community, status=PartyMemberRegistration.Status.PENDING
        ).count(),
        blocks=_blocks(community).count(),
    )


# --- rosters -------------------------------------------------------------------------------


def office_teams(*, user: Any, community: Community) -> QuerySet[Team]:
    """The community's teams with their leader and how many are on each roster now."""
    if not _staff(user, community):
        return Team.objects.none()
    return (
        Team.objects.filter(community=community)
        .select_related("leader")
        .annotate(member_count=Count("members", filter=Q(members__left_at__isnull=True)))
        .order_by("name", "pk")
    )


def office_team(*, user: Any, pk: int) -> Team | None:
    """A team of a community the user works in, else None."""
    team = Team.objects.select_related("community", "leader").filter(pk=pk).first()
    if team is None or not _staff(user, team.community):
        return None
    return team


def team_roster(*, user: Any, team: Team) -> QuerySet[TeamMember]:
    """Who is on the team now, leaders first, then by the day they joined."""
    if not _staff(user, team.community):
        return TeamMember.objects.none()
    return (
        TeamMember.objects.filter(team=team, left_at__isnull=True)
        .select_related("user", "resident")
        .order_by("role", "joined_at", "pk")  # "leader" < "member"
    )


def team_member(*, user: Any, team: Team, pk: int) -> TeamMember | None:
    """A current member of the team, for staff of its community; else None."""
    return team_roster(user=user, team=team).filter(pk=pk).first()


def user_by_phone(*, user: Any, community: Community, phone: str) -> Any:
    """The account with exactly this phone number, for staff adding it to a roster."""
    if not _staff(user, community):
        return None
    number = normalize_phone(phone)
    if not number:
        return None
    return get_user_model().objects.filter(phone=number, is_active=True).first()


# --- activities ----------------------------------------------------------------------------


def calendar_activities(
    *, user: Any, community: Community, start: dt.datetime, end: dt.datetime
) -> QuerySet[Activity]:
    """The community's activities starting in [start, end), in order, with their team."""
    if not _staff(user, community):
        return Activity.objects.none()
    return (
        Activity.objects.filter(community=community, starts_at__gte=start, starts_at__lt=end)
        .select_related("team", "post")
        .order_by("starts_at", "pk")
    )


def community_teams(*, user: Any, community: Community) -> QuerySet[Team]:
    """The community's teams, by name (the choices of the activity form)."""
    if not _staff(user, community):
        return Team.objects.none()
    return Team.objects.filter(community=community).order_by("name", "pk")


def community_posts(*, user: Any, community: Community) -> QuerySet[Post]:
    """The community's public-service posts, by name (the choices of the activity form)."""
    if not _staff(user, community):
        return Post.objects.none()
    return Post.objects.filter(community=community).order_by("name", "pk")


# --- confirmations -------------------------------------------------------------------------


def _confirmations(community: Community) -> QuerySet[Attendance]:
    return Attendance.objects.filter(
        activity__community=community,
        checked_out_at__isnull=False,
        confirmed_at__isnull=True,
        no_show=False,
    )


def confirmations_to_do(*, user: Any, community: Community) -> QuerySet[Attendance]:
    """Finished attendances of the community not yet confirmed, oldest first."""
    if not _staff(user, community):
        return Attendance.objects.none()
    return (
        _confirmations(community)
        .select_related("user", "activity__team")
        .order_by("checked_out_at", "pk")
    )


def confirmation_to_do(*, user: Any, community: Community, pk: int) -> Attendance | None:
    """One attendance of the confirmations to do, else None."""
    return confirmations_to_do(user=user, community=community).filter(pk=pk).first()


# --- no-show blocks ------------------------------------------------------------------------


def _blocks(community: Community) -> QuerySet[NoShowBlock]:
    # A block belongs to the volunteer, not to a community: the office of every community
    # where they missed a shift sees it (and may lift it, like no_show_block_lift says).
    missed_here = Attendance.objects.filter(
        user_id=OuterRef("user_id"), no_show=True, activity__community=community
    )
    return NoShowBlock.objects.filter(Exists(missed_here), lifted_at__isnull=True)


def open_blocks(*, user: Any, community: Community) -> QuerySet[NoShowBlock]:
    """Open no-show blocks of volunteers who missed a shift of the community, oldest first."""
    if not _staff(user, community):
        return NoShowBlock.objects.none()
    return _blocks(community).select_related("user").order_by("blocked_at", "pk")


def open_block(*, user: Any, community: Community, pk: int) -> NoShowBlock | None:
    """One of the community's open blocks, else None."""
    return open_blocks(user=user, community=community).filter(pk=pk).first()


# --- the ledgers (台账) the office exports ---------------------------------------------------


def roster_export_list(*, user: Any, community: Community) -> QuerySet[TeamMember]:
    """Staff: every team's current members, by team, leaders first, then by joining."""
    if not is_community_staff(user, community.pk):
        return TeamMember.objects.none()
    return (
        TeamMember.objects.filter(team__community=community, left_at__isnull=True)
        .select_related("team", "user", "resident")
        .defer("resident__id_number_ciphertext")
        .order_by("team__name", "team_id", "role", "joined_at", "pk")  # "leader" < "member"
    )


def hours_ledger(*, user: Any, community: Community, year: int) -> QuerySet[Attendance]:
    """Staff: the year's confirmed attendances of the community's activities (local
    calendar year, by the activity's start), in the order they happened."""
    if not is_community_staff(user, community.pk):
        return Attendance.objects.none()
    start, end = year_bounds(year)
    return (
        Attendance.objects.filter(
            activity__community=community,
            activity__starts_at__gte=start,
            activity__starts_at__lt=end,
            confirmed_at__isnull=False,
        )
        .select_related("activity__team", "activity__post", "user", "confirmed_by")
        .order_by("activity__starts_at", "activity_id", "pk")
    )
