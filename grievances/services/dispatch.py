"""The office's desk and the receiver's answer: accept (受理), reject, dispatch (派单),
and the receiver's accept, decline or transfer; the office may withdraw a dispatch.

Lock order everywhere: the grievance row, then its dispatch row. The grievance lock
serialises the receiver accepting against the office withdrawing; the unique index "one
live dispatch per grievance" is the last guard against two live dispatches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from community.models import Organization
from grievances import workflow
from grievances.models import Dispatch, Grievance, Tier, TimelineEvent
from grievances.selectors.access import is_office, is_receiver
from grievances.selectors.grievances import grievance_default_receiver
from grievances.services.common import (
    grievance_fields_set,
    grievance_lock,
    grievance_move,
    office_users,
    receiver_label,
    receiver_users,
    tell,
    timeline_add,
    ui_text,
)
from grievances.sla.clocks import clocks_cancel, clocks_on_trigger

Status = Grievance.Status
Kind = TimelineEvent.Kind
DStatus = Dispatch.Status
#: Who may receive a dispatch: not a merchant.
RECEIVER_KINDS = frozenset(
    {
        Organization.Kind.PROPERTY_COMPANY,
        Organization.Kind.PARTNER_UNIT,
        Organization.Kind.COMMUNITY_OFFICE,
        Organization.Kind.SOCIAL_ORGANIZATION,
        Organization.Kind.STREET_OFFICE,
    }
)


def _require_office(actor: Any, grievance: Grievance) -> None:
    if not is_office(actor, grievance.community_id):
        raise PermissionDenied(_("Only the community office may do this."))


def _required(text: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(message, code="reason")
    return text


def _tier_set(*, grievance: Grievance, tier: str | None, actor: Any, now: dt.datetime) -> None:
    """Change the tier (which clocks apply) before the clocks that depend on it start."""
    if tier is None or tier == grievance.tier:
        return
    if tier not in Tier.values:
        raise ValidationError(_("Unknown tier."), code="tier")
    old = grievance.tier
    grievance_fields_set(grievance=grievance, actor=actor, now=now, reason="tier", tier=tier)
    timeline_add(
        grievance=grievance,
        kind=Kind.NOTE,
        actor=actor,
        now=now,
        old_value=old,
        new_value=tier,
        note=ui_text(
            gettext_lazy("Tier: %(old)s → %(new)s"),
            {"old": Tier(old).label, "new": Tier(tier).label},
        ),
        is_public=False,
    )


def _locked_dispatch(dispatch: Dispatch) -> tuple[Grievance, Dispatch]:
    """Lock the dispatch's grievance, then the dispatch; both as they are now."""
    grievance = grievance_lock(dispatch.grievance_id)
    locked = (
        Dispatch.objects.select_for_update(of=("self",))
        .select_related("organization", "assignee")
        .get(pk=dispatch.pk)
    )
    return grievance, locked


def _check_receiver(organization: Organization | None, assignee: User | None) -> None:
    if organization is None and assignee is None:
        raise ValidationError(
            _("Dispatch to an organization or a person."), code="dispatch_receiver"
        )
    if organization is not None and organization.kind not in RECEIVER_KINDS:
        raise ValidationError(
            _("%(org)s does not take work orders.") % {"org": organization},
            code="dispatch_receiver",
        )
    if assignee is not None and not assignee.is_active:
        raise ValidationError(_("This person's account is disabled."), code="dispatch_receiver")


def dispatch_send(
    *,
    grievance: Grievance,
    organization: Organization | None,
    assignee: User | None,
    note: str,
    actor: Any,
    now: dt.datetime,
) -> Dispatch:
    """Create a pending dispatch of a locked grievance and tell its receivers (helper)."""
    dispatch = Dispatch.objects.create(
        grievance=grievance,
        organization=organization,
        assignee=assignee,
        note=note,
        dispatched_by=actor,
        created_at=now,
    )
    tell(
        users=receiver_users(dispatch),
        kind="dispatched",
        subject=gettext_lazy("New work order #%(pk)s: %(title)s"),
        params={"pk": grievance.pk, "title": grievance.title},
        body=note,
        ref=f"grievance-dispatch:{dispatch.pk}",
    )
    return dispatch


@transaction.atomic(savepoint=False)
def dispatch_end(
    *, dispatch: Dispatch, status: str, actor: Any, now: dt.datetime, reason: str = ""
) -> None:
    """End a live dispatch (declined, transferred, withdrawn, completed) by compare-and-set.

    An unanswered one is answered now, by the actor; an accepted one keeps who took it.
    """
    fields: dict[str, Any] = {"status": status}
    if reason:
        fields["reason"] = reason
    if dispatch.status == DStatus.PENDING:
        fields.update(decided_by=actor, decided_at=now)
    ended = Dispatch.objects.filter(pk=dispatch.pk, status=dispatch.status).update(**fields)
    if ended != 1:
        raise ValidationError(
            _("This dispatch was answered meanwhile. Reload and try again."), code="conflict"
        )
    for key, value in fields.items():
        setattr(dispatch, key, value)


# --- the office --------------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def _accept(*, grievance: Grievance, actor: Any, now: dt.datetime, tier: str | None) -> None:
    _require_office(actor, grievance)
    _tier_set(grievance=grievance, tier=tier, actor=actor, now=now)
    grievance_move(grievance=grievance, to=Status.ACCEPTED, actor=actor, now=now, accepted_at=now)
    clocks_on_trigger(grievance=grievance, trigger="accepted", now=now, actor=actor)


def grievance_accept(
    *, grievance: Grievance, actor: Any, now: dt.datetime, tier: str | None = None
) -> Grievance:
    """The office takes a submitted grievance on (受理), optionally setting its tier."""
    with transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        _accept(grievance=locked, actor=actor, now=now, tier=tier)
    return locked


def grievance_reject(
    *, grievance: Grievance, actor: Any, reason: str, now: dt.datetime
) -> Grievance:
    """The office turns a grievance down, saying why (shown to the reporter)."""
    reason = _required(reason, _("Say why the grievance is rejected."))
    with transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        _require_office(actor, locked)
        grievance_move(
            grievance=locked,
            to=Status.REJECTED,
            actor=actor,
            now=now,
            note=reason,
            rejection_reason=reason,
        )
        clocks_cancel(grievance=locked, now=now, actor=actor)
    return locked


@transaction.atomic(savepoint=False)
def _dispatch(
    *,
    grievance: Grievance,
    organization: Organization | None,
    assignee: User | None,
    note: str,
    actor: Any,
    now: dt.datetime,
) -> Dispatch:
    _require_office(actor, grievance)
    if organization is None and assignee is None:
        organization = grievance_default_receiver(grievance=grievance)
    _check_receiver(organization, assignee)
    if grievance.status == Status.SUBMITTED:
        # 受理并派单: one click on the board accepts and dispatches, as two logged moves.
        _accept(grievance=grievance, actor=actor, now=now, tier=None)
    workflow.check(grievance, Status.DISPATCHED)
    dispatch = dispatch_send(
        grievance=grievance,
        organization=organization,
        assignee=assignee,
        note=(note or "").strip(),
        actor=actor,
        now=now,
    )
    grievance_move(
        grievance=grievance,
        to=Status.DISPATCHED,
        actor=actor,
        now=now,
        kind=Kind.DISPATCHED,
        note=receiver_label(dispatch),
    )
    return dispatch


def grievance_dispatch(
    *,
    grievance: Grievance,
    actor: Any,
    now: dt.datetime,
    organization: Organization | None = None,
    assignee: User | None = None,
    note: str = "",
) -> Dispatch:
    """Send a grievance to an organization or a person (派单); with neither, to the
    category's default handler. A submitted grievance is accepted on the way."""
    with transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        return _dispatch(
            grievance=locked,
            organization=organization,
            assignee=assignee,
            note=note,
            actor=actor,
            now=now,
        )


def dispatch_withdraw(*, dispatch: Dispatch, actor: Any, reason: str, now: dt.datetime) -> Dispatch:
    """The office takes a dispatch back before anyone is on site; the grievance returns
    to the office (accepted). Running clocks keep running: the promise was the resident's."""
    reason = _required(reason, _("Say why the dispatch is withdrawn."))
    with transaction.atomic(durable=True):
        grievance, locked = _locked_dispatch(dispatch)
        _require_office(actor, grievance)
        if locked.status not in (DStatus.PENDING, DStatus.ACCEPTED):
            raise ValidationError(_("This dispatch is no longer live."), code="dispatch_closed")
        workflow.check(grievance, Status.ACCEPTED)
        dispatch_end(dispatch=locked, status=DStatus.WITHDRAWN, actor=actor, now=now, reason=reason)
        grievance_move(
            grievance=grievance,
            to=Status.ACCEPTED,
            actor=actor,
            now=now,
            note=reason,
            is_public=False,
            handler_organization=None,
            handler_user=None,
        )
        tell(
            users=[u for u in receiver_users(locked) if u.pk != getattr(actor, "pk", None)],
            kind="withdrawn",
            subject=gettext_lazy("Work order #%(pk)s was withdrawn by the office"),
            params={"pk": grievance.pk},
            body=reason,
            ref=f"grievance-dispatch-withdrawn:{locked.pk}",
        )
    return locked


# --- the receiver ------------------------------------------------------------------------


def _require_receiver(actor: Any, grievance: Grievance, dispatch: Dispatch) -> None:
    if not (is_receiver(actor, dispatch) or is_office(actor, grievance.community_id)):
        raise PermissionDenied(_("This work order was not sent to you."))


def _require_pending(grievance: Grievance, dispatch: Dispatch) -> None:
    if dispatch.status != DStatus.PENDING or grievance.status != Status.DISPATCHED:
        raise ValidationError(
            _("This work order has already been answered."), code="dispatch_answered"
        )


def dispatch_accept(
    *, dispatch: Dispatch, actor: Any, now: dt.datetime, tier: str | None = None
) -> Dispatch:
    """The receiver takes the work order (接单): they become the handler and the 1715
    clocks start. They may set the tier first (a leak that is really a major repair)."""
    with transaction.atomic(durable=True):
        grievance, locked = _locked_dispatch(dispatch)
        _require_receiver(actor, grievance, locked)
        _require_pending(grievance, locked)
        taken = Dispatch.objects.filter(pk=locked.pk, status=DStatus.PENDING).update(
            status=DStatus.ACCEPTED, decided_by=actor, decided_at=now
        )
        if taken != 1:
            raise ValidationError(
                _("This work order has already been answered."), code="dispatch_answered"
            )
        locked.status, locked.decided_by, locked.decided_at = DStatus.ACCEPTED, actor, now
        _tier_set(grievance=grievance, tier=tier, actor=actor, now=now)
        # The handler is the named person, else whoever of the organization took it (the
        # office accepting on a company's behalf, by phone, names nobody).
        handler = locked.assignee
        if handler is None and is_receiver(actor, locked):
            handler = actor
        grievance_fields_set(
            grievance=grievance,
            actor=actor,
            now=now,
            reason="dispatch accepted",
            handler_organization=locked.organization,
            handler_user=handler,
        )
        timeline_add(
            grievance=grievance,
            kind=Kind.DISPATCH_ACCEPTED,
            actor=actor,
            now=now,
            new_value=receiver_label(locked),
            note=str(handler or locked.organization or ""),
        )
        clocks_on_trigger(grievance=grievance, trigger="dispatch_accepted", now=now, actor=actor)
    return locked


def dispatch_decline(*, dispatch: Dispatch, actor: Any, reason: str, now: dt.datetime) -> Dispatch:
    """The receiver refuses the work order, saying why; it goes back to the office."""
    reason = _required(reason, _("Say why you decline this work order."))
    with transaction.atomic(durable=True):
        grievance, locked = _locked_dispatch(dispatch)
        _require_receiver(actor, grievance, locked)
        _require_pending(grievance, locked)
        dispatch_end(dispatch=locked, status=DStatus.DECLINED, actor=actor, now=now, reason=reason)
        grievance_move(
            grievance=grievance,
            to=Status.ACCEPTED,
            actor=actor,
            now=now,
            kind=Kind.DISPATCH_DECLINED,
            note=reason,
            is_public=False,
        )
        tell(
            users=[u for u in office_users(grievance.community_id) if u.pk != actor.pk],
            kind="declined",
            subject=gettext_lazy("Work order #%(pk)s was declined by %(receiver)s"),
            params={"pk": grievance.pk, "receiver": receiver_label(locked)},
            body=reason,
            ref=f"grievance-dispatch-declined:{locked.pk}",
        )
    return locked


def dispatch_transfer(
    *,
    dispatch: Dispatch,
    actor: Any,
    reason: str,
    now: dt.datetime,
    organization: Organization | None = None,
    assignee: User | None = None,
) -> Dispatch:
    """The receiver (or the office) passes an unanswered work order on to someone else
    (转派), saying why; the new dispatch waits for its receiver's answer."""
    reason = _required(reason, _("Say why you transfer this work order."))
    _check_receiver(organization, assignee)
    with transaction.atomic(durable=True):
        grievance, locked = _locked_dispatch(dispatch)
        _require_receiver(actor, grievance, locked)
        _require_pending(grievance, locked)
        if (organization, assignee) == (locked.organization, locked.assignee):
            raise ValidationError(
                _("Transfer to someone else than the present receiver."), code="transfer_same"
            )
        dispatch_end(
            dispatch=locked, status=DStatus.TRANSFERRED, actor=actor, now=now, reason=reason
        )
        new = dispatch_send(
            grievance=grievance,
            organization=organization,
            assignee=assignee,
            note=locked.note,
            actor=actor,
            now=now,
        )
        timeline_add(
            grievance=grievance,
            kind=Kind.TRANSFERRED,
            actor=actor,
            now=now,
            old_value=receiver_label(locked),
            new_value=receiver_label(new),
            note=reason,
            is_public=False,
        )
    return new


# --- the board: many at once ---------------------------------------------------------------


@dataclass
class BulkResult:
    """What a bulk action did: the grievances done, and why each other one failed."""

    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    if isinstance(exc, ObjectDoesNotExist):
        return _("Not found.")
    return str(exc) or _("Not allowed.")


def _each(ids: Iterable[Grievance | int], work: Callable[[int], Any]) -> BulkResult:
    """Run `work` per grievance, each in its own transaction: one stale row on the board
    (someone else acted on it) fails alone and is reported, the others go through."""
    result = BulkResult()
    seen: set[int] = set()
    for item in ids:
        pk = item if isinstance(item, int) else item.pk
        if pk in seen:
            continue
        seen.add(pk)
        try:
            work(pk)
        except (ValidationError, PermissionDenied, ObjectDoesNotExist) as exc:
            result.failed[pk] = _message(exc)
        else:
            result.done.append(pk)
    return result


def grievances_bulk_accept(
    *, grievances: Iterable[Grievance | int], actor: Any, now: dt.datetime
) -> BulkResult:
    """Accept several submitted grievances; each on its own, failures reported per item."""
    return _each(
        grievances, lambda pk: grievance_accept(grievance=Grievance(pk=pk), actor=actor, now=now)
    )


def grievances_bulk_dispatch(
    *,
    grievances: Iterable[Grievance | int],
    actor: Any,
    now: dt.datetime,
    organization: Organization | None = None,
    assignee: User | None = None,
    note: str = "",
) -> BulkResult:
    """Dispatch several grievances to one receiver, or each to its default handler."""
    return _each(
        grievances,
        lambda pk: grievance_dispatch(
            grievance=Grievance(pk=pk),
            actor=actor,
            now=now,
            organization=organization,
            assignee=assignee,
            note=note,
        ),
    )
