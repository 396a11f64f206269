"""Honours staff award (优秀党员, 优秀单元长, 身边好人 …), optionally with points.

The standard has no rule for community titles as such; the nearest is "good-samaritan"
(见义勇为、好人好事, honoured by the street or above), so points go through that rule and
only when staff ask for them. The ledger key `volunteer-award:<award id>` pays an award once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from community.models import Community, Resident
from credit.models import ScoringRule
from credit.services import points_award, rule_for
from credit.services.ledger import resident_community_id
from volunteers.models import Award
from volunteers.services.common import is_community_staff

AWARD_RULE_CODE = "good-samaritan"


def award_grant(
    *,
    community: Community,
    title: str,
    actor: Any,
    now: dt.datetime,
    recipient_user: Any = None,
    recipient_resident: Resident | None = None,
    recipient_name: str = "",
    title_other: str = "",
    citation: str = "",
    is_public: bool = True,
    with_points: bool = False,
) -> Award:
    """Staff award a title to a resident, a user or an outside person, with points if asked."""
    if not is_community_staff(actor, community.pk):
        raise PermissionDenied(_("Only community staff may award honours."))
    if title not in Award.Title.values:
        raise ValidationError(_("Unknown title."), code="title")
    title_other = " ".join((title_other or "").split())[:100]
    if title == Award.Title.OTHER and not title_other:
        raise ValidationError(_("Name the title."), code="title_other")
    if title != Award.Title.OTHER:
        title_other = ""
    recipient_name = " ".join((recipient_name or "").split())[:50]
    if recipient_resident is None and recipient_user is not None:
        recipient_resident = Resident.objects.filter(user=recipient_user).first()
    if recipient_user is None and recipient_resident is None and not recipient_name:
        raise ValidationError(_("Name the recipient."), code="recipient")
    if recipient_resident is not None and resident_community_id(recipient_resident) != (
        community.pk
    ):
        raise ValidationError(_("The recipient lives in another community."), code="community")
    if with_points and recipient_resident is None:
        raise ValidationError(
            _("Points go to a registered resident of the community."), code="no_account"
        )
    award = Award(
        community=community,
        title=title,
        title_other=title_other,
        recipient_user=recipient_user,
        recipient_resident=recipient_resident,
        recipient_name=recipient_name,
        citation=(citation or "").strip(),
        awarded_by=actor,
        awarded_at=now,
        is_public=is_public,
    )
    rule = None
    if with_points:
        try:
            rule = rule_for(community=community, code=AWARD_RULE_CODE)
        except ScoringRule.DoesNotExist as exc:
            raise ValidationError(
                _("This community's scoring standard has no rule for honours."), code="no_rule"
            ) from exc
    award._history_user = actor  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        award.save()
        if rule is not None:
            assert recipient_resident is not None
            # At the rule's yearly cap the ledger refuses and the award is not stored
            # either: staff decide whether to honour without points.
            entry = points_award(
                resident=recipient_resident,
                rule=rule,
                key=f"volunteer-award:{award.pk}",
                now=now,
                actor=actor,
                source=award,
                note=award.title_display,
            )
            Award.objects.filter(pk=award.pk).update(points=entry.amount)
            award.points = entry.amount
    return award
