"""Check-in, check-out, corrections, confirmation (hours become points) and no-shows.

Hours count once a second person confirms them: the team leader or community staff,
never the volunteer (a check constraint says so too). Confirmation locks the attendance
row, so two confirmers clicking at once confirm once; the ledger's idempotency key
`volunteer-hours:<attendance id>` is the last guard against paying twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from community.models import Resident
from credit.models import ScoringRule
from credit.services import points_award, rule_for
from volunteers.models import Activity, Attendance, NoShowBlock, SignUp
from volunteers.services.common import is_community_staff, may_manage_activity

HOUR_RULE_CODE = "volunteer-hour"
DEFAULT_NO_SHOW_LIMIT = 3
CENT = Decimal("0.01")


def no_show_limit() -> int:
    """No-shows after which sign-up is blocked (setting LINLI_VOLUNTEER_NO_SHOW_LIMIT)."""
    return int(getattr(settings, "LINLI_VOLUNTEER_NO_SHOW_LIMIT", DEFAULT_NO_SHOW_LIMIT))


def _signup_of(activity: Activity, user: Any) -> SignUp:
    signup = SignUp.objects.filter(
        activity=activity, user=user, status=SignUp.Status.SIGNED_UP
    ).first()
    if signup is None:
        raise ValidationError(_("You are not signed up for this activity."), code="not_signed_up")
    return signup


def _may_act_for(actor: Any, user: Any, activity: Activity) -> None:
    """The volunteer checks themselves in and out; the leader or staff may do it for them."""
    if actor is not None and actor.pk != user.pk and not may_manage_activity(actor, activity):
        raise PermissionDenied(_("Only the team leader or staff may check others in or out."))


def attendance_check_in(
    *, activity: Activity, user: Any, now: dt.datetime, actor: Any = None
) -> Attendance:
    """Check a signed-up volunteer in, from shortly before the start until the end; by
    themselves (the QR code) or by the leader (`actor`) for someone without a phone."""
    _may_act_for(actor, user, activity)
    opens = activity.starts_at - dt.timedelta(minutes=activity.checkin_opens_minutes)
    if not opens <= now <= activity.ends_at:
        raise ValidationError(_("Check-in is not open for this activity now."), code="window")
    with transaction.atomic(durable=True):
        signup = _signup_of(activity, user)
        attendance, _created = Attendance.objects.select_for_update().get_or_create(
            signup=signup,
            defaults={
                "activity": activity,
                "user": user,
                "checked_in_at": now,
                "created_at": now,
            },
        )
        if attendance.no_show:
            raise ValidationError(_("This sign-up was recorded as a no-show."), code="no_show")
        return attendance  # checking in twice keeps the first time


def attendance_check_out(
    *, activity: Activity, user: Any, now: dt.datetime, actor: Any = None
) -> Attendance:
    """Check a volunteer out and compute their hours, until shortly after the end; by
    themselves or by the leader (`actor`)."""
    _may_act_for(actor, user, activity)
    closes = activity.ends_at + dt.timedelta(minutes=activity.checkout_closes_minutes)
    if now > closes:
        raise ValidationError(_("Check-out has closed for this activity."), code="window")
    with transaction.atomic(durable=True):
        attendance = (
            Attendance.objects.select_for_update()
            .filter(activity=activity, user=user, checked_in_at__isnull=False)
            .first()
        )
        if attendance is None:
            raise ValidationError(_("Check in first."), code="not_checked_in")
        if attendance.checked_out_at is not None:
            return attendance
        assert attendance.checked_in_at is not None
        if now < attendance.checked_in_at:
            raise ValidationError(_("Check-out cannot be before check-in."), code="window")
        # Hours are counted from the later of check-in and the start: arriving early for
        # the briefing is welcome but the service itself is the activity's time.
        start = max(attendance.checked_in_at, activity.starts_at)
        end = min(now, activity.ends_at)
        seconds = max((end - start).total_seconds(), 0)
        hours = (Decimal(seconds) / Decimal(3600)).quantize(CENT, rounding=ROUND_DOWN)
        Attendance.objects.filter(pk=attendance.pk, checked_out_at__isnull=True).update(
            checked_out_at=now, hours=hours
        )
        attendance.refresh_from_db()
        return attendance


def attendance_correct(
    *, attendance: Attendance, hours: Decimal, actor: Any, now: dt.datetime
) -> Attendance:
    """The leader or staff correct the hours before they are confirmed."""
    with transaction.atomic(durable=True):
        locked = (
            Attendance.objects.select_for_update(of=("self",))
            .select_related("activity__team")
            .get(pk=attendance.pk)
        )
        if not may_manage_activity(actor, locked.activity):
            raise PermissionDenied(_("Only the team leader or staff may correct hours."))
        if actor.pk == locked.user_id:
            raise PermissionDenied(_("Nobody corrects their own hours."))
        if locked.confirmed_at is not None:
            raise ValidationError(_("These hours are already confirmed."), code="confirmed")
        if hours < 0:
            raise ValidationError(_("Hours cannot be negative."), code="negative")
        Attendance.objects.filter(pk=locked.pk).update(
            corrected_hours=Decimal(hours).quantize(CENT), corrected_by=actor
        )
        locked.refresh_from_db()
        return locked


def _award_hours(attendance: Attendance, hours: Decimal, actor: Any, now: dt.datetime) -> None:
    """Award the per-hour rule to the volunteer's resident record, if they have one."""
    try:
        resident = Resident.objects.get(user_id=attendance.user_id)
    except ObjectDoesNotExist:
        return  # an outside volunteer (e.g. a party member from a partner unit): no account
    rule: ScoringRule = rule_for(community=attendance.activity.community, code=HOUR_RULE_CODE)
    try:
        # A savepoint of its own: at the rule's daily cap the hours are still confirmed.
        with transaction.atomic():
            points_award(
                resident=resident,
                rule=rule,
                key=f"volunteer-hours:{attendance.pk}",
                now=now,
                quantity=hours,
                actor=actor,
                source=attendance,
                # who may confirm (leader or staff) was checked by attendance_confirm
                awarder_checked=True,
            )
    except ValidationError as exc:
        if exc.code != "cap_reached":
            raise


def attendance_confirm(*, attendance: Attendance, actor: Any, now: dt.datetime) -> Attendance:
    """A second person confirms the hours; the volunteer gets the per-hour points once."""
    with transaction.atomic(durable=True):
        locked = (
            Attendance.objects.select_for_update(of=("self",))
            .select_related("activity__team", "activity__community")
            .get(pk=attendance.pk)
        )
        if actor.pk == locked.user_id:
            raise PermissionDenied(_("Nobody confirms their own hours."))
        if not may_manage_activity(actor, locked.activity):
            raise PermissionDenied(_("Only the team leader or staff may confirm hours."))
        if locked.confirmed_at is not None:
            return locked  # confirmed already (a second click, a second confirmer)
        if locked.no_show or locked.checked_out_at is None:
            raise ValidationError(
                _("Only hours of a finished attendance can be confirmed."), code="not_finished"
            )
        hours = locked.counted_hours or Decimal(0)
        Attendance.objects.filter(pk=locked.pk, confirmed_at__isnull=True).update(
            confirmed_by=actor, confirmed_at=now
        )
        locked.refresh_from_db()
        if hours > 0:
            _award_hours(locked, hours, actor, now)
        return locked


@dataclass(frozen=True)
class ConfirmedMany:
    """What confirming a page of attendances did."""

    confirmed: int
    own_skipped: int  # the confirmer's own attendances: someone else confirms them
    refused: list[tuple[Attendance, ValidationError | PermissionDenied]]


def attendances_confirm(
    *, attendances: Iterable[Attendance], actor: Any, now: dt.datetime
) -> ConfirmedMany:
    """Confirm each attendance on its own (`attendance_confirm`, its own transaction: one
    refusal does not undo the others); the confirmer's own are skipped, not refused."""
    confirmed = own = 0
    refused: list[tuple[Attendance, ValidationError | PermissionDenied]] = []
    for attendance in attendances:
        if attendance.user_id == actor.pk:
            own += 1
            continue
        try:
            attendance_confirm(attendance=attendance, actor=actor, now=now)
        except (ValidationError, PermissionDenied) as exc:
            refused.append((attendance, exc))
        else:
            confirmed += 1
    return ConfirmedMany(confirmed=confirmed, own_skipped=own, refused=refused)


def attendance_no_show(*, signup: SignUp, actor: Any, now: dt.datetime) -> Attendance:
    """Record that a signed-up volunteer did not come; block sign-up at the limit."""
    with transaction.atomic(durable=True):
        activity = Activity.objects.select_related("team").get(pk=signup.activity_id)
        if not may_manage_activity(actor, activity):
            raise PermissionDenied(_("Only the team leader or staff may record a no-show."))
        if signup.status != SignUp.Status.SIGNED_UP:
            raise ValidationError(_("Only a signed-up volunteer can be a no-show."), code="status")
        if now < activity.ends_at:
            raise ValidationError(_("The activity has not ended yet."), code="not_ended")
        attendance, created = Attendance.objects.select_for_update().get_or_create(
            signup=signup,
            defaults={
                "activity": activity,
                "user_id": signup.user_id,
                "no_show": True,
                "created_at": now,
            },
        )
        if not created:
            if attendance.no_show:
                return attendance
            raise ValidationError(_("This volunteer checked in."), code="checked_in")
        _block_if_over_limit(signup.user_id, now)
        return attendance


@transaction.atomic(savepoint=False)
def _block_if_over_limit(user_id: int, now: dt.datetime) -> NoShowBlock | None:
    """Block the volunteer once their no-shows since the last lifted block reach the limit."""
    last_lift = (
        NoShowBlock.objects.filter(user_id=user_id, lifted_at__isnull=False)
        .order_by("-lifted_at")
        .values_list("lifted_at", flat=True)
        .first()
    )
    no_shows = Attendance.objects.filter(user_id=user_id, no_show=True)
    if last_lift is not None:
        no_shows = no_shows.filter(created_at__gt=last_lift)
    count = no_shows.count()
    if count < no_show_limit():
        return None
    block, _created = NoShowBlock.objects.get_or_create(
        user_id=user_id, lifted_at=None, defaults={"no_shows": count, "blocked_at": now}
    )
    return block


def no_show_block_lift(*, block: NoShowBlock, actor: Any, now: dt.datetime) -> NoShowBlock:
    """Staff lift a no-show block; the no-shows before it no longer count."""
    communities = set(
        Attendance.objects.filter(user_id=block.user_id, no_show=True).values_list(
            "activity__community_id", flat=True
        )
    )
    if not any(is_community_staff(actor, community_id) for community_id in communities):
        raise PermissionDenied(_("Only community staff may lift a block."))
    with transaction.atomic(durable=True):
        changed = NoShowBlock.objects.filter(pk=block.pk, lifted_at__isnull=True).update(
            lifted_at=now, lifted_by=actor
        )
        if changed != 1:
            raise ValidationError(_("This block was already lifted."), code="lifted")
        block.refresh_from_db()
        return block
