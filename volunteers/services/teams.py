"""Team rosters: adding members (residents, users or outside party members) and leaving."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from community.models import Resident
from volunteers.models import Team, TeamMember
from volunteers.services.common import is_community_staff


def team_member_add(
    *,
    team: Team,
    actor: Any,
    now: dt.datetime,
    user: Any = None,
    resident: Resident | None = None,
    name: str = "",
    phone: str = "",
    employer: str = "",
    party_branch: str = "",
    role: str = TeamMember.Role.MEMBER,
) -> TeamMember:
    """Staff or the team's leader add a member; somebody already on the team is refused."""
    if not (team.leader_id is not None and team.leader_id == actor.pk) and not (
        is_community_staff(actor, team.community_id)
    ):
        raise PermissionDenied(_("Only the team leader or staff may change the roster."))
    if user is None and resident is None and not name.strip():
        raise ValidationError(_("Name the new member."), code="required")
    member = TeamMember(
        team=team,
        user=user,
        resident=resident,
        name=name.strip(),
        phone=phone,
        employer=employer,
        party_branch=party_branch,
        role=role,
        joined_at=now,
    )
    member._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic(durable=True):
            member.save()
    except IntegrityError as exc:  # the partial unique "on the team once" caught a duplicate
        raise ValidationError(_("Already a member of this team."), code="duplicate") from exc
    return member


def team_member_leave(*, member: TeamMember, actor: Any, now: dt.datetime) -> TeamMember:
    """A member leaves the team (themself, the leader or staff); the record is kept."""
    team = member.team
    may = (
        actor.pk == member.user_id
        or (team.leader_id is not None and team.leader_id == actor.pk)
        or is_community_staff(actor, team.community_id)
    )
    if not may:
        raise PermissionDenied(_("Only the team leader or staff may change the roster."))
    with transaction.atomic(durable=True):
        changed = TeamMember.objects.filter(pk=member.pk, left_at__isnull=True).update(left_at=now)
        member.refresh_from_db()
        if changed:
            member._history_user = actor  # type: ignore[attr-defined]
            member.save(update_fields=["left_at"])  # a history row saying who removed them
    return member
