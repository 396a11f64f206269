"""From complainant to steward: staff invite a resident to join a team; the invitation
and its answer are kept, so the community sees how many joined this way.

Accepting adds the resident through `team_member_add`, which is an entry point of its
own (a durable transaction): the answer is claimed first by a compare-and-set, so of two
answers racing only one proceeds, and it is put back if the roster refuses the member.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from community.models import Resident
from credit.services.ledger import resident_community_id
from volunteers.models import StewardInvitation, Team, TeamMember
from volunteers.services.common import is_community_staff
from volunteers.services.teams import team_member_add

Status = StewardInvitation.Status


def steward_invite(
    *, team: Team, resident: Resident, actor: Any, now: dt.datetime, note: str = ""
) -> StewardInvitation:
    """Staff invite a resident of the community to a team; one open invitation per team."""
    if not is_community_staff(actor, team.community_id):
        raise PermissionDenied(_("Only community staff may invite residents."))
    if resident_community_id(resident) != team.community_id:
        raise ValidationError(_("The resident lives in another community."), code="community")
    if TeamMember.objects.filter(team=team, resident=resident, left_at__isnull=True).exists():
        raise ValidationError(_("Already a member of this team."), code="duplicate")
    invitation = StewardInvitation(
        community_id=team.community_id,
        team=team,
        resident=resident,
        invited_by=actor,
        note=(note or "").strip(),
        created_at=now,
    )
    invitation._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic(durable=True):
            invitation.save()
    except IntegrityError as exc:  # the partial unique "one open invitation" caught it
        raise ValidationError(
            _("This resident already has an open invitation to this team."), code="duplicate"
        ) from exc
    return invitation


def _may_answer(actor: Any, invitation: StewardInvitation) -> bool:
    """The invited resident (through their login) or staff recording a phone answer."""
    if actor is None or not actor.is_authenticated:
        return False
    if invitation.resident.user_id is not None and invitation.resident.user_id == actor.pk:
        return True
    return is_community_staff(actor, invitation.community_id)


def steward_invitation_answer(
    *, invitation: StewardInvitation, accept: bool, actor: Any, now: dt.datetime
) -> StewardInvitation:
    """The resident (or staff for them) accept or decline; accepting joins the team."""
    invitation = StewardInvitation.objects.select_related("resident", "team").get(pk=invitation.pk)
    if not _may_answer(actor, invitation):
        raise PermissionDenied(_("Only the invited resident or staff may answer."))
    target = Status.ACCEPTED if accept else Status.DECLINED
    with transaction.atomic(durable=True):
        claimed = StewardInvitation.objects.filter(pk=invitation.pk, status=Status.INVITED).update(
            status=target, decided_at=now
        )
    if not claimed:
        invitation.refresh_from_db()
        if invitation.status == target:
            return invitation  # answered the same way already: nothing more to do
        raise ValidationError(_("This invitation has already been answered."), code="answered")
    if accept:
        try:
            # A resident cannot edit rosters: the inviter's authority adds them, unless
            # staff record the answer themselves.
            staff = is_community_staff(actor, invitation.community_id)
            member = team_member_add(
                team=invitation.team,
                actor=actor if staff else invitation.invited_by,
                now=now,
                resident=invitation.resident,
            )
        except ValidationError as exc:
            if exc.code != "duplicate":
                _reopen(invitation)
                raise
            # Joined meanwhile by another way: the invitation links that membership.
            member = TeamMember.objects.get(
                team=invitation.team, resident=invitation.resident, left_at__isnull=True
            )
        except PermissionDenied:
            _reopen(invitation)
            raise
        StewardInvitation.objects.filter(pk=invitation.pk).update(member=member)
    invitation.refresh_from_db()
    invitation._history_user = actor  # type: ignore[attr-defined]
    invitation.save(update_fields=["status"])  # a history row saying who answered
    return invitation


def _reopen(invitation: StewardInvitation) -> None:
    """Put a claimed answer back when the roster refused the member."""
    StewardInvitation.objects.filter(pk=invitation.pk, status=Status.ACCEPTED).update(
        status=Status.INVITED, decided_at=None
    )
