"""In-service party members reporting to the community (下沉党员报到).

A member registers (name, phone, employer, party branch, skills, free hours); community
staff confirm the registration and assign a post with duties (定岗定责), or decline it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from community.models import Community
from volunteers.models import PartyMemberRegistration, Post
from volunteers.services.common import is_community_staff

Status = PartyMemberRegistration.Status

# Which status may follow which; a decided registration stays decided.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset({Status.CONFIRMED, Status.DECLINED}),
    Status.CONFIRMED: frozenset(),
    Status.DECLINED: frozenset(),
}


def party_member_register(
    *,
    community: Community,
    name: str,
    phone: str,
    employer: str,
    party_branch: str,
    now: dt.datetime,
    skills: str = "",
    free_hours: str = "",
    user: Any = None,
) -> PartyMemberRegistration:
    """Record a party member's registration with the community, pending confirmation."""
    if not all(value.strip() for value in (name, phone, employer, party_branch)):
        raise ValidationError(
            _("Name, phone, employer and party branch are required."), code="required"
        )
    user = user if user is not None and user.is_authenticated else None
    registration = PartyMemberRegistration(
        community=community,
        user=user,
        name=name.strip(),
        phone=phone.strip(),
        employer=employer.strip(),
        party_branch=party_branch.strip(),
        skills=skills,
        free_hours=free_hours,
        created_at=now,
        updated_at=now,
    )
    registration._history_user = user  # type: ignore[attr-defined]
    try:
        with transaction.atomic(durable=True):
            registration.save()
    except IntegrityError:  # one live registration per member and community
        raise ValidationError(
            _("You have already registered with this community."), code="duplicate"
        ) from None
    return registration


def _move(
    registration: PartyMemberRegistration, new: str, actor: Any, now: dt.datetime, **fields: Any
) -> PartyMemberRegistration:
    if not is_community_staff(actor, registration.community_id):
        raise PermissionDenied(_("Only community staff may decide a registration."))
    old = registration.status
    if new not in TRANSITIONS[old]:
        raise ValidationError(_("This registration was already decided."), code="decided")
    changed = PartyMemberRegistration.objects.filter(pk=registration.pk, status=old).update(
        status=new, updated_at=now, **fields
    )
    if changed != 1:
        raise ValidationError(_("This registration was already decided."), code="decided")
    registration.refresh_from_db()
    # update() bypasses simple-history; record the decision with who made it.
    registration._history_user = actor  # type: ignore[attr-defined]
    registration.save(update_fields=["updated_at"])
    return registration


def registration_confirm(
    *,
    registration: PartyMemberRegistration,
    post: Post,
    duties: str,
    actor: Any,
    now: dt.datetime,
) -> PartyMemberRegistration:
    """Staff confirm a registration and assign the member a post with duties (定岗定责)."""
    if post.community_id != registration.community_id:
        raise ValidationError(_("The post belongs to another community."), code="post_community")
    with transaction.atomic(durable=True):
        return _move(
            registration,
            Status.CONFIRMED,
            actor,
            now,
            post=post,
            duties=duties or post.duties,
            confirmed_by=actor,
        )


def registration_decline(
    *, registration: PartyMemberRegistration, actor: Any, now: dt.datetime
) -> PartyMemberRegistration:
    """Staff decline a registration (e.g. registered with the wrong community)."""
    with transaction.atomic(durable=True):
        return _move(registration, Status.DECLINED, actor, now)
