"""Manual awards and deductions (人工加扣分) with maker-checker, and appeals (申诉).

One person asks (the maker), another decides (the checker): the service refuses a
self-approval with a clear message and the `request_maker_is_not_checker` constraint is
the last guard. An approved award is applied at once. An approved deduction is notified
to the resident and only counts once its appeal window has passed (DESIGN §4):
`deductions_apply_due` applies it then, unless the resident appealed, in which case
staff uphold (apply) or cancel it, with reasons kept.

A request asked through the API may carry the maker's `Idempotency-Key`: asking again
with it returns the first request and changes nothing, the unique (maker, key) being the
last guard when both arrive at once; the same key for a different request is refused.

Every status change is a compare-and-set along `POINTS_REQUEST_TRANSITIONS` (or
`APPEAL_TRANSITIONS`), on a row locked first: the request row is always locked before the
resident's account row (the ledger locks that), so two paths never deadlock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Community, Membership, Resident
from credit.models import Appeal, PointsRequest, ScoringRule
from credit.services.ledger import (
    points_amount,
    points_award,
    points_deduct,
    resident_community_id,
)
from credit.services.rules import rule_for

Role = Membership.Role
Status = PointsRequest.Status
Kind = PointsRequest.Kind

#: Roles that run the office and decide requests and appeals of their community.
DECIDER_ROLES = frozenset({Role.COMMUNITY_ADMIN, Role.COMMUNITY_STAFF})

#: Where a request may go from each (kind, status). Nothing else is allowed.
POINTS_REQUEST_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (Kind.AWARD, Status.PENDING): frozenset({Status.APPLIED, Status.REJECTED}),
    (Kind.DEDUCTION, Status.PENDING): frozenset({Status.NOTIFIED, Status.REJECTED}),
    (Kind.DEDUCTION, Status.NOTIFIED): frozenset({Status.APPEALED, Status.APPLIED}),
    (Kind.DEDUCTION, Status.APPEALED): frozenset({Status.APPLIED, Status.CANCELLED}),
}
APPEAL_TRANSITIONS: dict[str, frozenset[str]] = {
    Appeal.Status.OPEN: frozenset({Appeal.Status.UPHELD, Appeal.Status.CANCELLED}),
    Appeal.Status.UPHELD: frozenset(),
    Appeal.Status.CANCELLED: frozenset(),
}
EVIDENCE_NEEDS_NOTE = frozenset({ScoringRule.Evidence.PHOTO, ScoringRule.Evidence.STAFF_NOTE})
_DUE_BATCH = 100
#: The longest `Idempotency-Key` accepted (as for supermarket redemptions).
MAX_KEY_LENGTH = 100


def appeal_days() -> int:
    """Days a resident has to appeal a notified deduction (default 7)."""
    return int(getattr(settings, "LINLI_APPEAL_DAYS", 7))


# --- who may do what ------------------------------------------------------------------


def _area_q(community_id: int) -> Q:
    """Memberships whose area lies in (or covers) the community."""
    return (
        Q(community_id=community_id)
        | Q(grid__community_id=community_id)
        | Q(estate__community_id=community_id)
        | Q(street__communities=community_id)
        | Q(organization__estates_served__community_id=community_id)
    )


def is_community_decider(user: Any, community_id: int) -> bool:
    """Community staff or admin of that community (or a superuser)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, is_active=True, role__in=DECIDER_ROLES, community_id=community_id
    ).exists()


def _may_request(actor: Any, rule: ScoringRule, community_id: int) -> bool:
    if is_community_decider(actor, community_id):
        return True
    if not rule.awarder_roles:
        return False
    return (
        Membership.objects.filter(user=actor, is_active=True, role__in=rule.awarder_roles)
        .filter(_area_q(community_id))
        .exists()
    )


def _require_decider(actor: Any, request: PointsRequest) -> None:
    if not is_community_decider(actor, request.community_id):
        raise PermissionDenied(_("Only the community office decides points requests."))


def _require_other_person(actor: Any, request: PointsRequest) -> None:
    # Maker-checker: the DB constraint is the last guard, this is the clear message.
    if actor.pk == request.requested_by_id:
        raise PermissionDenied(
            _("You made this request: another member of staff has to decide it."),
        )


def _rule_in_force_here(rule: ScoringRule, community_id: int) -> bool:
    """The current version of the rule that applies in the community (own, else street's)."""
    if not rule.is_current:
        return False
    community = Community.objects.get(pk=community_id)
    try:
        return rule_for(community=community, code=rule.code).pk == rule.pk
    except ScoringRule.DoesNotExist:
        return False


# --- compare-and-set ------------------------------------------------------------------


def _request_move(
    *, request: PointsRequest, to: str, actor: Any, now: dt.datetime, reason: str, **fields: Any
) -> None:
    """Move `request` to `to` if the map allows it and nobody moved it first."""
    allowed = POINTS_REQUEST_TRANSITIONS.get((request.kind, request.status), frozenset())
    if to not in allowed:
        raise ValidationError(
            _("This request is “%(status)s” and cannot be changed that way.")
            % {"status": request.get_status_display()},
            code="transition",
        )
    moved = PointsRequest.objects.filter(pk=request.pk, status=request.status).update(
        status=to, **fields
    )
    if moved != 1:
        raise ValidationError(
            _("Someone else changed this request meanwhile. Reload and try again."),
            code="conflict",
        )
    request.status = to
    for key, value in fields.items():
        setattr(request, key, value)
    # update() skips simple-history's signal: record the change (and who made it) here.
    PointsRequest.history.bulk_history_create(
        [request], update=True, default_user=actor, default_change_reason=reason, default_date=now
    )


def _appeal_move(
    *, appeal: Appeal, to: str, actor: Any, now: dt.datetime, reason: str, **fields: Any
) -> None:
    if to not in APPEAL_TRANSITIONS[appeal.status]:
        raise ValidationError(
            _("This appeal is “%(status)s” and cannot be changed that way.")
            % {"status": appeal.get_status_display()},
            code="transition",
        )
    moved = Appeal.objects.filter(pk=appeal.pk, status=appeal.status).update(status=to, **fields)
    if moved != 1:
        raise ValidationError(
            _("Someone else decided this appeal meanwhile. Reload and try again."),
            code="conflict",
        )
    appeal.status = to
    for key, value in fields.items():
        setattr(appeal, key, value)
    Appeal.history.bulk_history_create(
        [appeal], update=True, default_user=actor, default_change_reason=reason, default_date=now
    )


def _locked(request: PointsRequest) -> PointsRequest:
    """The request row, locked, with what the services read (status may have moved)."""
    return (
        PointsRequest.objects.select_for_update(of=("self",))
        .select_related("rule", "resident")
        .get(pk=request.pk)
    )


def _clean_key(key: str | None) -> str | None:
    """The maker's idempotency key, stripped (None: the caller sent none)."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError(_("A valid idempotency key is required."), code="key")
    return key


def _replayed(*, actor: Any, key: str, asked: dict[str, Any]) -> PointsRequest | None:
    """The maker's first request with `key` (marked `replayed`), if it asked the same."""
    first = PointsRequest.objects.filter(requested_by=actor, idempotency_key=key).first()
    if first is None:
        return None
    if any(getattr(first, name) != value for name, value in asked.items()):
        # A retry repeats the request; another request under the same key is a mistake
        # the client must see, not one to answer with the first request's result.
        raise ValidationError(
            _("This Idempotency-Key was already used for a different request."),
            code="key_reused",
        )
    first.replayed = True  # type: ignore[attr-defined]
    return first


# --- entry points ---------------------------------------------------------------------


def points_request_create(
    *,
    actor: Any,
    resident: Resident,
    rule: ScoringRule,
    quantity: Decimal | int,
    reason: str,
    evidence_note: str = "",
    now: dt.datetime,
    key: str | None = None,
) -> PointsRequest:
    """Ask for a manual award or deduction (maker); someone else decides it.

    With `key` (the API's Idempotency-Key), asking again returns the maker's first
    request unchanged; the returned object has `replayed` set to True or False.
    """
    reason = (reason or "").strip()
    evidence_note = (evidence_note or "").strip()[:200]
    quantity = Decimal(quantity)
    key = _clean_key(key)
    asked = {
        "resident_id": resident.pk,
        "rule_id": rule.pk,
        "quantity": quantity,
        "reason": reason,
        "evidence_note": evidence_note,
    }
    if key is not None and (first := _replayed(actor=actor, key=key, asked=asked)):
        return first
    community_id = resident_community_id(resident)
    if not _may_request(actor, rule, community_id):
        raise PermissionDenied(_("You may not ask for points of this rule for this resident."))
    if resident.status != Resident.Status.ACTIVE:
        raise ValidationError(_("This resident no longer lives here."), code="resident")
    if not _rule_in_force_here(rule, community_id):
        raise ValidationError(
            _("This rule is not the one in force in the resident's community."), code="rule"
        )
    today = timezone.localdate(now)
    if rule.valid_from > today or (rule.valid_to is not None and rule.valid_to < today):
        raise ValidationError(_("This rule is not in force on that date."), code="rule_not_valid")
    if not reason:
        raise ValidationError(_("Say why (the reason is shown to the resident)."), code="reason")
    if rule.evidence in EVIDENCE_NEEDS_NOTE and not evidence_note:
        raise ValidationError(
            _("This rule needs evidence (%(evidence)s): describe it.")
            % {"evidence": rule.get_evidence_display()},
            code="evidence",
        )
    if quantity <= 0 or points_amount(rule, quantity) <= 0:
        raise ValidationError(_("This quantity is worth no points."), code="quantity")
    kind = Kind.DEDUCTION if rule.points < 0 else Kind.AWARD
    try:
        with transaction.atomic(durable=True):
            request = PointsRequest(
                kind=kind,
                status=Status.PENDING,
                community_id=community_id,
                resident=resident,
                rule=rule,
                quantity=quantity,
                reason=reason,
                evidence_note=evidence_note,
                requested_by=actor,
                requested_at=now,
                idempotency_key=key,
            )
            request._history_user = actor  # type: ignore[attr-defined]
            request.save()
    except IntegrityError:
        # The same key at the same moment: the unique (maker, key) made this insert wait
        # for the other one and fail when it committed. Answer as a replay of it.
        if key is None or (first := _replayed(actor=actor, key=key, asked=asked)) is None:
            raise
        return first
    request.replayed = False  # type: ignore[attr-defined]
    return request


def points_request_approve(
    *, request: PointsRequest, actor: Any, now: dt.datetime, note: str = ""
) -> PointsRequest:
    """Approve a request (checker): an award is applied, a deduction is notified."""
    note = (note or "").strip()
    with transaction.atomic(durable=True):
        request = _locked(request)
        _require_decider(actor, request)
        _require_other_person(actor, request)
        if request.kind == Kind.AWARD:
            entry = points_award(
                resident=request.resident,
                rule=request.rule,
                key=f"points-request:{request.pk}",
                now=now,
                quantity=request.quantity,
                # The entry records the checker who approved it; the maker is on the
                # request (the entry's source). The rule's awarder roles were checked for
                # the maker when the request was made, and the checker is office staff,
                # who decide requests under every rule: not checked again for them.
                actor=actor,
                awarder_checked=True,
                on_behalf_of=None,
                source=request,
                note=request.reason[:200],
            )
            _request_move(
                request=request,
                to=Status.APPLIED,
                actor=actor,
                now=now,
                reason="approved, award applied",
                decided_by=actor,
                decided_at=now,
                decision_note=note[:200],
                entry=entry,
            )
        else:
            deadline = now + dt.timedelta(days=appeal_days())
            # No in-app message or SMS yet: the notice is recorded on the request (the
            # resident sees it on their points page) and in its history.
            notice = note or _("Notified to the resident; they may appeal until %(deadline)s.") % {
                "deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")
            }
            _request_move(
                request=request,
                to=Status.NOTIFIED,
                actor=actor,
                now=now,
                reason=f"approved; deduction notified to resident, appeal by {deadline:%Y-%m-%d}",
                decided_by=actor,
                decided_at=now,
                decision_note=notice[:200],
                appeal_deadline=deadline,
            )
    return request


def points_request_reject(
    *, request: PointsRequest, actor: Any, now: dt.datetime, note: str
) -> PointsRequest:
    """Turn a request down (checker), saying why."""
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Say why the request is rejected."), code="note")
    with transaction.atomic(durable=True):
        request = _locked(request)
        _require_decider(actor, request)
        _require_other_person(actor, request)
        _request_move(
            request=request,
            to=Status.REJECTED,
            actor=actor,
            now=now,
            reason="rejected",
            decided_by=actor,
            decided_at=now,
            decision_note=note[:200],
        )
    return request


def appeal_submit(
    *, request: PointsRequest, resident_user: Any, text: str, now: dt.datetime
) -> Appeal:
    """The resident appeals a notified deduction, before its deadline."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Say why you appeal."), code="text")
    with transaction.atomic(durable=True):
        request = _locked(request)
        if (
            resident_user is None
            or not resident_user.is_authenticated
            or request.resident.user_id != resident_user.pk
        ):
            raise PermissionDenied(_("Only the resident concerned may appeal."))
        if request.status != Status.NOTIFIED or request.appeal_deadline is None:
            raise ValidationError(_("This deduction cannot be appealed."), code="status")
        if now >= request.appeal_deadline:
            raise ValidationError(_("The appeal window has closed."), code="deadline")
        appeal = Appeal(request=request, text=text, submitted_at=now, submitted_by=resident_user)
        appeal._history_user = resident_user  # type: ignore[attr-defined]
        appeal.save()
        _request_move(
            request=request, to=Status.APPEALED, actor=resident_user, now=now, reason="appealed"
        )
    return appeal


def appeal_decide(
    *, appeal: Appeal, actor: Any, now: dt.datetime, uphold: bool, reasons: str
) -> Appeal:
    """Staff decide an appeal: uphold (the deduction is applied) or cancel it, with reasons."""
    reasons = (reasons or "").strip()
    if not reasons:
        raise ValidationError(_("Give the reasons for the decision."), code="reasons")
    with transaction.atomic(durable=True):
        request = _locked(appeal.request)
        appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
        _require_decider(actor, request)
        # Whoever asked for the deduction does not judge the appeal against it.
        _require_other_person(actor, request)
        fields = {"decided_by": actor, "decided_at": now, "decision_reason": reasons}
        if uphold:
            _appeal_move(
                appeal=appeal,
                to=Appeal.Status.UPHELD,
                actor=actor,
                now=now,
                reason="upheld",
                **fields,
            )
            entry = _deduct(request=request, actor=actor, now=now)
            _request_move(
                request=request,
                to=Status.APPLIED,
                actor=actor,
                now=now,
                reason="appeal upheld, deduction applied",
                entry=entry,
            )
        else:
            _appeal_move(
                appeal=appeal,
                to=Appeal.Status.CANCELLED,
                actor=actor,
                now=now,
                reason="cancelled",
                **fields,
            )
            _request_move(
                request=request,
                to=Status.CANCELLED,
                actor=actor,
                now=now,
                reason="deduction cancelled on appeal",
            )
        appeal.request = request
    return appeal


def _deduct(*, request: PointsRequest, actor: Any, now: dt.datetime) -> Any:
    """Take the points of a deduction that stands (None when the balance was empty)."""
    return points_deduct(
        resident=request.resident,
        rule=request.rule,
        key=f"deduction:{request.pk}",
        now=now,
        quantity=request.quantity,
        actor=actor,
        source=request,
        note=request.reason[:200],
    )


def deductions_apply_due(*, now: dt.datetime) -> int:
    """Apply notified deductions whose appeal window has passed; returns how many.

    Batches of rows locked with SKIP LOCKED in pk order, so two sweeps running at once
    share the work instead of queueing; the compare-and-set and the entry's unique key
    make a second run change nothing.
    """
    applied = 0
    while True:
        with transaction.atomic(durable=True):
            batch = list(
                PointsRequest.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("rule", "resident", "decided_by")
                .filter(kind=Kind.DEDUCTION, status=Status.NOTIFIED, appeal_deadline__lte=now)
                .order_by("pk")[:_DUE_BATCH]
            )
            for request in batch:
                # The entry records the checker who approved the deduction; the sweep
                # only applies it once nobody appealed in time.
                entry = _deduct(request=request, actor=request.decided_by, now=now)
                _request_move(
                    request=request,
                    to=Status.APPLIED,
                    actor=None,
                    now=now,
                    reason="appeal window passed, deduction applied",
                    entry=entry,
                )
            applied += len(batch)
        if len(batch) < _DUE_BATCH:
            return applied
