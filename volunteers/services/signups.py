"""Signing up for an activity, the waiting list, and cancelling with promotion.

Every path that counts places and then writes locks the activity row first
(`select_for_update`): concurrent sign-ups for the last place queue on that lock, so the
count they read is the count they write against. The check constraint
`signed_up_count <= capacity` and the partial unique "one active sign-up per volunteer"
are the last guards.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _

from volunteers.models import Activity, NoShowBlock, PartyMemberRegistration, SignUp, TeamMember
from volunteers.services.common import may_manage_activity

Status = SignUp.Status


def _locked(activity: Activity) -> Activity:
    return Activity.objects.select_for_update().get(pk=activity.pk)


def may_sign_up(activity: Activity, user: Any) -> bool:
    """Whether the activity's audience includes the user: anyone in the community (the
    pages show an activity only to those who may see it), the team's members and leader,
    or party members whose registration with the community is confirmed."""
    Audience = Activity.Audience
    if activity.audience == Audience.TEAM:
        team = activity.team
        if team is None:
            return False
        if team.leader_id == user.pk:
            return True
        return TeamMember.objects.filter(team=team, user=user, left_at__isnull=True).exists()
    if activity.audience == Audience.PARTY:
        return PartyMemberRegistration.objects.filter(
            community_id=activity.community_id,
            user=user,
            status=PartyMemberRegistration.Status.CONFIRMED,
        ).exists()
    return True


def activity_signup(*, activity: Activity, user: Any, now: dt.datetime) -> SignUp:
    """Sign a volunteer up, or put them on the waiting list when the activity is full."""
    with transaction.atomic(durable=True):
        locked = _locked(activity)
        existing = SignUp.objects.filter(
            activity=locked, user=user, status__in=SignUp.ACTIVE
        ).first()
        if existing is not None:
            return existing  # a double tap or a retried request: the sign-up they have
        if not locked.signup_open:
            raise ValidationError(_("Sign-up for this activity is closed."), code="closed")
        if now >= locked.starts_at:
            raise ValidationError(_("This activity has already started."), code="started")
        if not may_sign_up(locked, user):
            raise PermissionDenied(
                _("This activity is for %(audience)s only.")
                % {"audience": locked.get_audience_display()}
            )
        if NoShowBlock.objects.filter(user=user, lifted_at__isnull=True).exists():
            raise PermissionDenied(
                _("You missed too many activities; ask the community office to lift the block.")
            )
        if locked.signed_up_count < locked.capacity:
            Activity.objects.filter(pk=locked.pk).update(signed_up_count=F("signed_up_count") + 1)
            return SignUp.objects.create(
                activity=locked, user=user, status=Status.SIGNED_UP, created_at=now
            )
        last = SignUp.objects.filter(activity=locked, status=Status.WAITING).aggregate(
            last=Max("position")
        )["last"]
        return SignUp.objects.create(
            activity=locked,
            user=user,
            status=Status.WAITING,
            position=(last or 0) + 1,
            created_at=now,
        )


@transaction.atomic(savepoint=False)
def _promote_first_waiting(activity: Activity, now: dt.datetime) -> SignUp | None:
    """Give the freed place to the first on the waiting list (the caller holds the lock)."""
    first = (
        SignUp.objects.filter(activity=activity, status=Status.WAITING)
        .order_by("position", "pk")
        .first()
    )
    if first is None:
        return None
    SignUp.objects.filter(pk=first.pk, status=Status.WAITING).update(
        status=Status.SIGNED_UP, position=None, promoted_at=now
    )
    Activity.objects.filter(pk=activity.pk).update(signed_up_count=F("signed_up_count") + 1)
    first.refresh_from_db()
    return first


def signup_cancel(*, signup: SignUp, actor: Any, now: dt.datetime) -> SignUp | None:
    """Cancel a sign-up (the volunteer, or whoever runs the activity); returns the promoted one."""
    with transaction.atomic(durable=True):
        activity = _locked(signup.activity)
        if actor.pk != signup.user_id and not may_manage_activity(actor, activity):
            raise PermissionDenied(_("You may not cancel this sign-up."))
        if now >= activity.starts_at:
            raise ValidationError(
                _("The activity has started; it can no longer be cancelled."), code="started"
            )
        old = SignUp.objects.filter(pk=signup.pk).values_list("status", flat=True).get()
        if old == Status.CANCELLED:
            return None
        changed = SignUp.objects.filter(pk=signup.pk, status=old).update(
            status=Status.CANCELLED, position=None, cancelled_at=now
        )
        if changed != 1:  # cannot happen under the activity lock; refuse rather than guess
            raise ValidationError(_("This sign-up changed meanwhile; try again."), code="stale")
        signup.refresh_from_db()
        if old != Status.SIGNED_UP:
            return None
        Activity.objects.filter(pk=activity.pk).update(signed_up_count=F("signed_up_count") - 1)
        return _promote_first_waiting(activity, now)
