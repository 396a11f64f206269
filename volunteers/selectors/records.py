"""Reads of service records, patrol logs, the public honour roll and steward invitations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from community.models import Community
from credit.selectors.boards import display_surname
from volunteers.models import (
    Activity,
    Award,
    PatrolFinding,
    PatrolLog,
    ServiceRecord,
    StewardInvitation,
    Team,
    TeamMember,
)
from volunteers.services.common import is_community_staff, may_manage_activity


def activity_service_records(*, user: Any, activity: Activity) -> QuerySet[ServiceRecord]:
    """What an activity's service day recorded, for its leader and staff."""
    if not may_manage_activity(user, activity):
        return ServiceRecord.objects.none()
    return ServiceRecord.objects.filter(activity=activity).order_by("recorded_at", "pk")


def service_totals(
    *, user: Any, community: Community, since: dt.datetime, until: dt.datetime
) -> list[tuple[str, int]]:
    """Staff: how many of each service the community's service days did in a period."""
    if not is_community_staff(user, community.pk):
        return []
    rows = (
        ServiceRecord.objects.filter(
            activity__community=community,
            activity__starts_at__gte=since,
            activity__starts_at__lt=until,
        )
        .values("item")
        .annotate(total=Sum("count"))
        .order_by("-total", "item")
    )
    return [(row["item"], int(row["total"])) for row in rows]


def team_patrol_logs(*, user: Any, team: Team) -> QuerySet[PatrolLog]:
    """A team's patrol logs, newest first, for its members, leader and staff."""
    on_team = (
        user is not None
        and user.is_authenticated
        and (
            team.leader_id == user.pk
            or TeamMember.objects.filter(team=team, user=user, left_at__isnull=True).exists()
        )
    )
    if not (on_team or is_community_staff(user, team.community_id)):
        return PatrolLog.objects.none()
    return PatrolLog.objects.filter(team=team).order_by("-started_at", "-pk")


def open_patrol_findings(*, user: Any, community: Community) -> QuerySet[PatrolFinding]:
    """Staff: findings of the community's patrols not yet filed as grievances."""
    if not is_community_staff(user, community.pk):
        return PatrolFinding.objects.none()
    return (
        PatrolFinding.objects.filter(log__team__community=community, grievance__isnull=True)
        .select_related("log__team", "building", "category")
        .order_by("-log__started_at", "pk")
    )


@dataclass(frozen=True)
class HonourEntry:
    """One line of the public honour roll: the name is masked (张**)."""

    title: str
    name: str
    citation: str
    awarded_at: dt.datetime


def honour_roll(*, community: Community, year: int | None = None) -> list[HonourEntry]:
    """The community's public awards, newest first, names masked like the credit boards."""
    awards = Award.objects.filter(community=community, is_public=True).select_related(
        "recipient_resident", "recipient_user"
    )
    if year is not None:
        start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
        awards = awards.filter(awarded_at__gte=start, awarded_at__lt=start.replace(year=year + 1))
    return [
        HonourEntry(
            title=award.title_display,
            name=display_surname(award.recipient_display),
            citation=award.citation,
            awarded_at=award.awarded_at,
        )
        for award in awards.order_by("-awarded_at", "-pk")
    ]


@dataclass(frozen=True)
class InvitationOutcomes:
    """How steward invitations of a community went."""

    invited: int
    accepted: int
    declined: int

    @property
    def total(self) -> int:
        """All invitations sent."""
        return self.invited + self.accepted + self.declined


def invitation_outcomes(*, user: Any, community: Community) -> InvitationOutcomes:
    """Staff: how many residents were invited to teams, and how many joined this way."""
    if not is_community_staff(user, community.pk):
        return InvitationOutcomes(invited=0, accepted=0, declined=0)
    Status = StewardInvitation.Status
    counts = StewardInvitation.objects.filter(community=community).aggregate(
        invited=Count("pk", filter=Q(status=Status.INVITED)),
        accepted=Count("pk", filter=Q(status=Status.ACCEPTED)),
        declined=Count("pk", filter=Q(status=Status.DECLINED)),
    )
    return InvitationOutcomes(**counts)
