"""The handler's part: on site, progress, a plan, waiting, resolving; deadline extensions.

The handler is the receiver of the accepted dispatch (its assignee, or staff of its
organization) or the person recorded as handler; the office may act for them. Nothing
here works before the receiver has accepted the dispatch: the clocks of the promise run
from that acceptance, and so does the handler's responsibility.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from community.models import Resident
from grievances import workflow
from grievances.attachments import attachments_record, photos_check, photos_stored
from grievances.models import (
    Attachment,
    DeadlineExtension,
    Dispatch,
    Grievance,
    SlaClock,
    TimelineEvent,
)
from grievances.selectors.access import is_office, is_receiver
from grievances.services.common import (
    coordinate,
    grievance_fields_set,
    grievance_lock,
    grievance_move,
    live_dispatch,
    office_users,
    reporter_users,
    tell,
    timeline_add,
    ui_text,
)
from grievances.services.dispatch import dispatch_end
from grievances.sla.clocks import (
    clock_extend,
    clocks_on_trigger,
    clocks_pause,
    clocks_resume,
)

Status = Grievance.Status
Kind = TimelineEvent.Kind
DStatus = Dispatch.Status
#: Approved extensions per clock (延期 at most twice), unless settings say otherwise.
MAX_EXTENSIONS = 2


def max_extensions() -> int:
    return int(getattr(settings, "LINLI_GRIEVANCE_MAX_EXTENSIONS", MAX_EXTENSIONS))


def _is_handler(actor: Any, grievance: Grievance, dispatch: Dispatch | None) -> bool:
    if actor is None:
        return False
    if grievance.handler_user_id is not None and grievance.handler_user_id == actor.pk:
        return True
    return (
        dispatch is not None
        and dispatch.status == DStatus.ACCEPTED
        and is_receiver(actor, dispatch)
    )


def _in_hands(grievance: Grievance, actor: Any) -> Dispatch | None:
    """Check the actor may handle the grievance now; return its accepted dispatch.

    The office may always act (on the phone for a handler); a handler only while the
    grievance is in their hands. Before the receiver accepts, there is no handler.
    """
    dispatch = live_dispatch(grievance)
    office = is_office(actor, grievance.community_id)
    if not (office or _is_handler(actor, grievance, dispatch)):
        raise PermissionDenied(_("You are not handling this grievance."))
    if grievance.status in workflow.IN_HANDS_STATUSES and (
        dispatch is None or dispatch.status != DStatus.ACCEPTED
    ):
        raise ValidationError(
            _("The receiver has not accepted this work order yet."), code="not_accepted"
        )
    return dispatch


def _required(text: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(message, code="required")
    return text


def grievance_check_in(
    *,
    grievance: Grievance,
    actor: Any,
    now: dt.datetime,
    latitude: Any,
    longitude: Any,
    photo: Any = None,
    note: str = "",
) -> TimelineEvent:
    """The handler arrives (到场签到): position, time and a photo; the arrive clock stops."""
    lat = coordinate(latitude, low=-90, high=90, field="latitude")
    lng = coordinate(longitude, low=-180, high=180, field="longitude")
    if lat is None or lng is None:
        raise ValidationError(
            _("Check in with your position (allow the location on your phone)."),
            code="position",
        )
    checked = photos_check([photo] if photo is not None else [])
    with photos_stored(checked) as stored, transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        _in_hands(locked, actor)
        event = grievance_move(
            grievance=locked,
            to=Status.ON_SITE,
            actor=actor,
            now=now,
            kind=Kind.CHECKED_IN,
            note=(note or "").strip(),
        )
        TimelineEvent.objects.filter(pk=event.pk).update(latitude=lat, longitude=lng)
        event.latitude, event.longitude = lat, lng
        attachments_record(
            grievance=locked,
            stored=stored,
            kind=Attachment.Kind.CHECK_IN,
            event=event,
            actor=actor,
            now=now,
        )
        clocks_on_trigger(grievance=locked, trigger="on_site", now=now, actor=actor)
    return event


def grievance_progress_add(
    *,
    grievance: Grievance,
    actor: Any,
    note: str,
    now: dt.datetime,
    is_public: bool = True,
    photos: Any = (),
) -> TimelineEvent:
    """A progress update for the reporter (public) or an internal note (office and
    handlers only), with photos."""
    note = _required(note, _("Write the update."))
    checked = photos_check(photos)
    with photos_stored(checked) as stored, transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        if locked.status in workflow.FINAL_STATUSES and not is_office(actor, locked.community_id):
            raise ValidationError(_("This grievance is closed."), code="closed")
        office = is_office(actor, locked.community_id)
        if not office:
            if locked.status not in workflow.IN_HANDS_STATUSES:
                raise PermissionDenied(_("You are not handling this grievance."))
            _in_hands(locked, actor)
        event = timeline_add(
            grievance=locked,
            kind=Kind.PROGRESS if is_public else Kind.NOTE,
            actor=actor,
            now=now,
            note=note,
            is_public=is_public,
        )
        attachments_record(
            grievance=locked,
            stored=stored,
            kind=Attachment.Kind.PROGRESS,
            event=event,
            actor=actor,
            now=now,
        )
    return event


def grievance_plan_submit(
    *, grievance: Grievance, actor: Any, plan: str, plan_due: dt.date, now: dt.datetime
) -> Grievance:
    """A complex problem's plan (处置方案) with the date it will be done; stops the plan clock."""
    plan = _required(plan, _("Describe the plan."))
    if plan_due is None or plan_due < timezone.localdate(now):
        raise ValidationError(_("The plan needs a completion date from today on."), code="plan_due")
    with transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        if locked.status not in workflow.IN_HANDS_STATUSES:
            raise ValidationError(
                _("A plan is made for work in hand (dispatched, on site or waiting)."),
                code="not_in_hands",
            )
        _in_hands(locked, actor)
        grievance_fields_set(
            grievance=locked, actor=actor, now=now, reason="plan", plan=plan, plan_due=plan_due
        )
        timeline_add(
            grievance=locked,
            kind=Kind.PLAN,
            actor=actor,
            now=now,
            new_value=plan_due.isoformat(),
            note=plan,
        )
        clocks_on_trigger(grievance=locked, trigger="plan_submitted", now=now, actor=actor)
    return locked


def grievance_wait(*, grievance: Grievance, actor: Any, reason: str, now: dt.datetime) -> Grievance:
    """Pause the work, saying what it waits for (no access, parts on order): clocks pause."""
    reason = _required(reason, _("Say what the work is waiting for."))[:200]
    with transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        workflow.check(locked, Status.WAITING)
        _in_hands(locked, actor)
        grievance_move(
            grievance=locked,
            to=Status.WAITING,
            actor=actor,
            now=now,
            note=reason,
            waiting_reason=reason,
            waiting_from=locked.status,
        )
        clocks_pause(grievance=locked, now=now, actor=actor, reason=reason)
    return locked


def grievance_resume(
    *, grievance: Grievance, actor: Any, now: dt.datetime, note: str = ""
) -> Grievance:
    """End the wait: back to where it paused from; clocks move on by the time paused."""
    with transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        if locked.status != Status.WAITING:
            raise workflow.TransitionNotAllowed(locked, locked.waiting_from or Status.DISPATCHED)
        _in_hands(locked, actor)
        grievance_move(
            grievance=locked,
            to=locked.waiting_from,
            actor=actor,
            now=now,
            note=(note or "").strip(),
            waiting_reason="",
            waiting_from="",
        )
        clocks_resume(grievance=locked, now=now, actor=actor)
    return locked


def grievance_resolve(
    *, grievance: Grievance, actor: Any, note: str, now: dt.datetime, photos: Any = ()
) -> Grievance:
    """Resolve (办结): a note and at least one "after" photo from the handler; the office
    answering a matter it handled itself (accepted → resolved) needs the note only."""
    note = _required(note, _("Say what was done."))
    checked = photos_check(photos)
    with photos_stored(checked) as stored, transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        workflow.check(locked, Status.RESOLVED)
        if locked.status == Status.ACCEPTED:
            if not is_office(actor, locked.community_id):
                raise PermissionDenied(_("Only the community office may do this."))
            dispatch = None
        else:
            dispatch = _in_hands(locked, actor)
            if not checked:
                raise ValidationError(
                    _("Add at least one photo of the result."), code="after_photo"
                )
        if dispatch is not None:
            dispatch_end(dispatch=dispatch, status=DStatus.COMPLETED, actor=actor, now=now)
        event = grievance_move(
            grievance=locked,
            to=Status.RESOLVED,
            actor=actor,
            now=now,
            kind=Kind.RESOLVED,
            note=note,
            resolution=note,
            resolved_at=now,
        )
        attachments_record(
            grievance=locked,
            stored=stored,
            kind=Attachment.Kind.AFTER,
            event=event,
            actor=actor,
            now=now,
        )
        clocks_on_trigger(grievance=locked, trigger="resolved", now=now, actor=actor)
        tell(
            users=reporter_users(locked),
            kind="resolved",
            subject=gettext_lazy("Your grievance #%(pk)s is resolved: is it solved?"),
            params={"pk": locked.pk},
            body=note,
            ref=f"grievance-resolved:{locked.pk}:{locked.reopen_count}",
        )
    return locked


def grievance_steward_set(
    *, grievance: Grievance, steward: Resident | None, actor: Any, now: dt.datetime
) -> Grievance:
    """Record the steward (小巷管家) who leads the resolution; a satisfied closure earns
    them points (credit rule "mediation-lead")."""
    with transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        if not is_office(actor, locked.community_id):
            raise PermissionDenied(_("Only the community office may do this."))
        if locked.status in workflow.FINAL_STATUSES:
            raise ValidationError(_("This grievance is closed."), code="closed")
        if steward is not None:
            community_id = (
                Resident.objects.filter(pk=steward.pk, status=Resident.Status.ACTIVE)
                .values_list("household__unit__building__estate__community_id", flat=True)
                .first()
            )
            if community_id != locked.community_id:
                raise ValidationError(_("The steward must live in this community."), code="steward")
        old = str(locked.steward) if locked.steward_id else ""
        grievance_fields_set(
            grievance=locked, actor=actor, now=now, reason="steward", steward=steward
        )
        timeline_add(
            grievance=locked,
            kind=Kind.NOTE,
            actor=actor,
            now=now,
            old_value=old,
            new_value=str(steward or ""),
            note=ui_text(gettext_lazy("Steward: %(name)s"), {"name": steward or "-"}),
            is_public=False,
        )
    return locked


# --- deadline extensions (延期) ------------------------------------------------------------


def _approved_count(clock: SlaClock) -> int:
    return DeadlineExtension.objects.filter(
        clock=clock, status=DeadlineExtension.Status.APPROVED
    ).count()


def deadline_extension_request(
    *,
    clock: SlaClock,
    actor: Any,
    reason: str,
    now: dt.datetime,
    extra_minutes: int | None = None,
    extra_days: int | None = None,
) -> DeadlineExtension:
    """The handler asks for more time on a live clock; the office decides."""
    reason = _required(reason, _("Say why more time is needed."))
    if not (extra_minutes or extra_days) or (extra_minutes or 0) < 0 or (extra_days or 0) < 0:
        raise ValidationError(_("Ask for some more minutes or days."), code="extension_time")
    with transaction.atomic(durable=True):
        locked = grievance_lock(clock.grievance_id)
        _in_hands(locked, actor)
        live = SlaClock.objects.select_for_update().get(pk=clock.pk)
        if live.state not in (SlaClock.State.RUNNING, SlaClock.State.PAUSED):
            raise ValidationError(_("This clock has stopped."), code="clock_stopped")
        if _approved_count(live) >= max_extensions():
            raise ValidationError(
                _("This deadline has been extended %(n)s times already: no more.")
                % {"n": max_extensions()},
                code="extension_cap",
            )
        if DeadlineExtension.objects.filter(
            clock=live, status=DeadlineExtension.Status.PENDING
        ).exists():
            raise ValidationError(
                _("A request for this deadline is already waiting for a decision."),
                code="extension_pending",
            )
        extension = DeadlineExtension(
            clock=live,
            extra_minutes=extra_minutes or None,
            extra_days=extra_days or None,
            reason=reason,
            requested_by=actor,
            created_at=now,
        )
        extension._history_user = actor  # type: ignore[attr-defined]
        extension.save()
        timeline_add(
            grievance=locked,
            kind=Kind.EXTENSION,
            actor=actor,
            now=now,
            new_value=_extension_label(extension),
            note=reason,
            is_public=False,
        )
        tell(
            users=[u for u in office_users(locked.community_id) if u.pk != actor.pk],
            kind="extension_requested",
            subject=gettext_lazy("Grievance #%(pk)s: more time requested"),
            params={"pk": locked.pk},
            body=reason,
            ref=f"grievance-extension:{extension.pk}",
        )
    return extension


def _extension_label(extension: DeadlineExtension) -> str:
    parts = []
    if extension.extra_days:
        parts.append(ui_text(gettext_lazy("+%(n)s days"), {"n": extension.extra_days}))
    if extension.extra_minutes:
        parts.append(ui_text(gettext_lazy("+%(n)s minutes"), {"n": extension.extra_minutes}))
    return " ".join(parts)


def deadline_extension_decide(
    *,
    extension: DeadlineExtension,
    actor: Any,
    approve: bool,
    now: dt.datetime,
    note: str = "",
) -> DeadlineExtension:
    """The office approves (the clock's due time moves) or refuses a request; never the
    person who asked, and at most MAX_EXTENSIONS approvals per clock."""
    note = (note or "").strip()
    with transaction.atomic(durable=True):
        clock = SlaClock.objects.only("grievance_id").get(pk=extension.clock_id)
        locked = grievance_lock(clock.grievance_id)
        if not is_office(actor, locked.community_id):
            raise PermissionDenied(_("Only the community office may do this."))
        request = DeadlineExtension.objects.select_for_update().get(pk=extension.pk)
        if request.requested_by_id == actor.pk:
            raise PermissionDenied(_("Someone else must decide your own request."))
        if request.status != DeadlineExtension.Status.PENDING:
            raise ValidationError(_("This request has been decided already."), code="decided")
        status = DeadlineExtension.Status.REFUSED
        if approve:
            live = SlaClock.objects.select_for_update().get(pk=request.clock_id)
            if live.state not in (SlaClock.State.RUNNING, SlaClock.State.PAUSED):
                raise ValidationError(_("This clock has stopped."), code="clock_stopped")
            if _approved_count(live) >= max_extensions():
                raise ValidationError(
                    _("This deadline has been extended %(n)s times already: no more.")
                    % {"n": max_extensions()},
                    code="extension_cap",
                )
            clock_extend(
                clock=live,
                extra_minutes=request.extra_minutes,
                extra_days=request.extra_days,
                now=now,
                actor=actor,
            )
            status = DeadlineExtension.Status.APPROVED
        fields = {"status": status, "decided_by": actor, "decided_at": now, "decision_note": note}
        moved = DeadlineExtension.objects.filter(
            pk=request.pk, status=DeadlineExtension.Status.PENDING
        ).update(**fields)
        if moved != 1:
            raise ValidationError(_("This request has been decided already."), code="decided")
        for key, value in fields.items():
            setattr(request, key, value)
        DeadlineExtension.history.bulk_history_create(
            [request], update=True, default_user=actor, default_date=now
        )
        timeline_add(
            grievance=locked,
            kind=Kind.EXTENSION,
            actor=actor,
            now=now,
            old_value=DeadlineExtension.Status.PENDING,
            new_value=status,
            note=note or _extension_label(request),
            is_public=False,
        )
        tell(
            users=[request.requested_by],
            kind="extension_decided",
            subject=(
                gettext_lazy("Grievance #%(pk)s: more time approved")
                if approve
                else gettext_lazy("Grievance #%(pk)s: more time refused")
            ),
            params={"pk": locked.pk},
            body=note,
            ref=f"grievance-extension-decided:{request.pk}",
        )
    return request
