"""Closing the loop (回访): the reporter's verdict, closing without an answer, steward
points, and cost sharing among households (费用均摊).

- "Solved" closes the grievance; a steward who led it earns the credit rule
  "mediation-lead" when the reporter is satisfied (solved, 4 or 5 stars), once.
- "Not solved" reopens it (reopen_count + 1) and sends it straight back to whoever
  handled it last, as a new dispatch waiting for their answer: the same people know the
  place and the problem, and the office sees the reopen on the board and may withdraw
  and redirect. With nobody to send it back to (the office answered it itself), it
  stays reopened on the office's desk.
- With no answer in LINLI_GRIEVANCE_AUTOCLOSE_DAYS (3) days, the grievance closes by
  itself (an automatic rating, which counts neither as satisfied nor as a complaint).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from community.models import Household, Resident
from grievances import workflow
from grievances.models import (
    CostShare,
    CostShareLine,
    Dispatch,
    Grievance,
    Rating,
    TimelineEvent,
)
from grievances.selectors.access import grievance_scope, is_office
from grievances.services.common import (
    grievance_lock,
    grievance_move,
    office_users,
    receiver_label,
    tell,
    timeline_add,
    ui_text,
)
from grievances.services.dispatch import dispatch_send
from grievances.sla.clocks import clocks_on_trigger

Status = Grievance.Status
Kind = TimelineEvent.Kind
AUTOCLOSE_DAYS = 3
AUTOCLOSE_BATCH = 200
#: Stars from which a "solved" verdict counts as satisfied (满意).
SATISFIED_STARS = 4
STEWARD_RULE = "mediation-lead"


def autoclose_days() -> int:
    return int(getattr(settings, "LINLI_GRIEVANCE_AUTOCLOSE_DAYS", AUTOCLOSE_DAYS))


def _may_rate(actor: Any, grievance: Grievance, on_behalf_of: Resident | None) -> Resident | None:
    """Check who may give the verdict; return the resident it is given for.

    The reporter, or someone of the reporter's household (or of the household the
    grievance was filed for); the office (hotline 回访) on behalf of one of them. With no
    resident behind it (a patrol finding, an anonymous slip), whoever filed it checks the
    result (the grid worker's 核查), or the office.
    """
    if grievance.is_anonymous or (grievance.reporter_id is None and grievance.household_id is None):
        if on_behalf_of is not None:
            raise ValidationError(_("Nobody to rate on behalf of."), code="on_behalf_of")
        filer = grievance.submitted_by_id is not None and grievance.submitted_by_id == actor.pk
        if not (filer or is_office(actor, grievance.community_id)):
            raise PermissionDenied(_("Only whoever filed it or the office can confirm this."))
        return None
    households = {h for h in (grievance.household_id,) if h is not None}
    if grievance.reporter_id is not None:
        households.add(
            Resident.objects.values_list("household_id", flat=True).get(pk=grievance.reporter_id)
        )
    if on_behalf_of is not None:
        if not is_office(actor, grievance.community_id):
            raise PermissionDenied(_("Only the community office rates on a resident's behalf."))
        if on_behalf_of.pk != grievance.reporter_id and on_behalf_of.household_id not in households:
            raise ValidationError(
                _("Rate on behalf of the reporter or their household."), code="on_behalf_of"
            )
        return on_behalf_of
    own = Resident.objects.filter(user_id=actor.pk).first() if actor is not None else None
    if own is None:
        raise PermissionDenied(_("Only the reporter or their household can confirm this."))
    if own.pk == grievance.reporter_id:
        return own
    if own.household_id in households and own.household_id in grievance_scope(actor).household_ids:
        return own
    raise PermissionDenied(_("Only the reporter or their household can confirm this."))


def _steward_award(*, grievance: Grievance, round: int, now: dt.datetime) -> None:
    """Points to the steward who led a satisfied resolution, once (idempotency key)."""
    from credit.services import points_award, rule_for

    steward = grievance.steward
    if steward is None:
        return
    key = f"grievance-steward:{grievance.pk}:{round}"
    try:
        # A savepoint: a cap reached or a missing rule must not undo the closure.
        with transaction.atomic():
            rule = rule_for(community=grievance.community, code=STEWARD_RULE)
            entry = points_award(
                resident=steward,
                rule=rule,
                key=key,
                now=now,
                source=grievance,
                note=f"#{grievance.pk} {grievance.title}"[:200],
            )
    except (ValidationError, PermissionDenied, ObjectDoesNotExist) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        timeline_add(
            grievance=grievance,
            kind=Kind.NOTE,
            actor=None,
            now=now,
            note=ui_text(
                gettext_lazy("No points for the steward %(name)s: %(why)s"),
                {"name": steward, "why": message or gettext_lazy("no scoring rule")},
            ),
            is_public=False,
        )
        return
    timeline_add(
        grievance=grievance,
        kind=Kind.NOTE,
        actor=None,
        now=now,
        new_value=str(entry.amount),
        note=ui_text(
            gettext_lazy("%(points)s points to the steward %(name)s."),
            {"points": entry.amount, "name": steward},
        ),
        is_public=False,
    )


def _redispatch(*, grievance: Grievance, now: dt.datetime) -> Dispatch | None:
    """Send a reopened grievance back to whoever last did the work."""
    last = (
        Dispatch.objects.filter(grievance=grievance, status=Dispatch.Status.COMPLETED)
        .select_related("organization", "assignee")
        .order_by("-created_at", "-pk")
        .first()
    )
    if last is None:
        return None
    dispatch = dispatch_send(
        grievance=grievance,
        organization=last.organization,
        assignee=last.assignee,
        note=ui_text(gettext_lazy("Reopened: the reporter says it is not solved.")),
        actor=None,
        now=now,
    )
    grievance_move(
        grievance=grievance,
        to=Status.DISPATCHED,
        actor=None,
        now=now,
        kind=Kind.DISPATCHED,
        note=receiver_label(dispatch),
        handler_organization=None,
        handler_user=None,
    )
    return dispatch


def grievance_rate(
    *,
    grievance: Grievance,
    actor: Any,
    solved: bool,
    stars: int,
    now: dt.datetime,
    comment: str = "",
    on_behalf_of: Resident | None = None,
) -> Rating:
    """The reporter's verdict on a resolution (评价): solved closes it, not solved reopens
    it and sends it back to the handler."""
    if not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValidationError(_("Give 1 to 5 stars."), code="stars")
    comment = (comment or "").strip()[:1000]
    with transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        if locked.status != Status.RESOLVED:
            raise workflow.TransitionNotAllowed(
                locked, Status.CLOSED if solved else Status.REOPENED
            )
        resident = _may_rate(actor, locked, on_behalf_of)
        rating = Rating.objects.create(
            grievance=locked,
            round=locked.reopen_count,
            solved=solved,
            stars=stars,
            comment=comment,
            rated_by=actor,
            created_at=now,
        )
        timeline_add(
            grievance=locked,
            kind=Kind.RATED,
            actor=actor,
            now=now,
            new_value=f"{stars}★" + ("" if solved else " ✗"),
            note=comment,
            on_behalf_of=resident if on_behalf_of is not None else None,
        )
        if solved:
            grievance_move(
                grievance=locked,
                to=Status.CLOSED,
                actor=actor,
                now=now,
                on_behalf_of=on_behalf_of,
                closed_at=now,
            )
            clocks_on_trigger(grievance=locked, trigger="closed", now=now, actor=actor)
            if stars >= SATISFIED_STARS:
                _steward_award(grievance=locked, round=rating.round, now=now)
        else:
            grievance_move(
                grievance=locked,
                to=Status.REOPENED,
                actor=actor,
                now=now,
                kind=Kind.REOPENED,
                note=comment,
                on_behalf_of=on_behalf_of,
                reopen_count=locked.reopen_count + 1,
                resolved_at=None,
            )
            clocks_on_trigger(grievance=locked, trigger="reopened", now=now, actor=actor)
            if _redispatch(grievance=locked, now=now) is None:
                tell(
                    users=office_users(locked.community_id),
                    kind="reopened",
                    subject=gettext_lazy("Grievance #%(pk)s was reopened: not solved"),
                    params={"pk": locked.pk},
                    body=comment,
                    ref=f"grievance-reopened:{locked.pk}:{locked.reopen_count}",
                )
    return rating


def _autoclose_one(pk: int, *, cutoff: dt.datetime, now: dt.datetime) -> bool:
    with transaction.atomic(durable=True):
        # skip_locked: a grievance being rated right now is the rater's, not ours.
        locked = (
            Grievance.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
            .filter(pk=pk, status=Status.RESOLVED, resolved_at__lte=cutoff)
            .first()
        )
        if locked is None:
            return False
        Rating.objects.create(
            grievance=locked,
            round=locked.reopen_count,
            solved=True,
            automatic=True,
            created_at=now,
        )
        grievance_move(
            grievance=locked,
            to=Status.CLOSED,
            actor=None,
            now=now,
            note=ui_text(
                gettext_lazy("Closed: no answer within %(days)s days of the resolution."),
                {"days": autoclose_days()},
            ),
            closed_at=now,
        )
        clocks_on_trigger(grievance=locked, trigger="closed", now=now, actor=None)
    return True


def grievances_autoclose(*, now: dt.datetime, batch_size: int = AUTOCLOSE_BATCH) -> int:
    """Close resolved grievances nobody confirmed within the days allowed (idempotent);
    each in its own short transaction, found in batches. Returns how many closed."""
    cutoff = now - dt.timedelta(days=autoclose_days())
    closed = 0
    after = 0
    while True:
        ids = list(
            Grievance.objects.filter(status=Status.RESOLVED, resolved_at__lte=cutoff, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return closed
        for pk in ids:
            closed += _autoclose_one(pk, cutoff=cutoff, now=now)
        after = ids[-1]


# --- cost sharing (费用均摊) -----------------------------------------------------------------


def _money(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValidationError(_("Enter an amount in yuan."), code="amount") from exc
    if not amount.is_finite() or amount <= 0:
        raise ValidationError(_("Amounts must be more than zero."), code="amount")
    return amount


def cost_share_create(
    *,
    grievance: Grievance,
    description: str,
    total: Any,
    shares: Mapping[Household | int, Any],
    actor: Any,
    now: dt.datetime,
) -> CostShare:
    """Split work outside the property contract among the households concerned: an
    amount each, adding up to the total, households of the grievance's community."""
    description = " ".join((description or "").split())[:200]
    if not description:
        raise ValidationError(_("Say what is paid for."), code="description")
    total_amount = _money(total)
    amounts = {(h if isinstance(h, int) else h.pk): _money(a) for h, a in shares.items()}
    if not amounts:
        raise ValidationError(_("Name the households that share the cost."), code="shares")
    if sum(amounts.values()) != total_amount:
        raise ValidationError(
            _("The shares add up to %(sum)s, not to the total %(total)s.")
            % {"sum": sum(amounts.values()), "total": total_amount},
            code="shares_sum",
        )
    with transaction.atomic(durable=True):
        locked = grievance_lock(grievance)
        if not is_office(actor, locked.community_id):
            raise PermissionDenied(_("Only the community office may do this."))
        if locked.status in (Status.REJECTED, Status.MERGED):
            raise ValidationError(_("This grievance is closed."), code="closed")
        if CostShare.objects.filter(grievance=locked).exists():
            raise ValidationError(
                _("This grievance already has a cost share."), code="cost_share_exists"
            )
        found = set(
            Household.objects.filter(
                pk__in=amounts, unit__building__estate__community_id=locked.community_id
            ).values_list("pk", flat=True)
        )
        if found != set(amounts):
            raise ValidationError(
                _("Every household must be in the grievance's community."),
                code="shares_household",
            )
        share = CostShare(
            grievance=locked,
            description=description,
            total=total_amount,
            created_by=actor,
            created_at=now,
        )
        share._history_user = actor  # type: ignore[attr-defined]
        share.save()
        for household_id in sorted(amounts):
            line = CostShareLine(
                cost_share=share, household_id=household_id, amount=amounts[household_id]
            )
            line._history_user = actor  # type: ignore[attr-defined]
            line.save()
        timeline_add(
            grievance=locked,
            kind=Kind.COST_SHARE,
            actor=actor,
            now=now,
            new_value=str(total_amount),
            note=ui_text(
                gettext_lazy("%(what)s: %(total)s yuan shared by %(n)s households."),
                {"what": description, "total": total_amount, "n": len(amounts)},
            ),
        )
    return share


def cost_share_line_pay(*, line: CostShareLine, actor: Any, now: dt.datetime) -> CostShareLine:
    """Record that a household paid its share; the last payment settles the cost share."""
    with transaction.atomic(durable=True):
        share = CostShare.objects.only("grievance_id").get(pk=line.cost_share_id)
        locked_grievance = grievance_lock(share.grievance_id)
        if not is_office(actor, locked_grievance.community_id):
            raise PermissionDenied(_("Only the community office may do this."))
        share = CostShare.objects.select_for_update().get(pk=line.cost_share_id)
        paid = CostShareLine.objects.filter(pk=line.pk, paid_at__isnull=True).update(
            paid_at=now, recorded_by=actor
        )
        if paid != 1:
            raise ValidationError(_("This share is paid already."), code="paid")
        current = CostShareLine.objects.select_related("household__unit__building").get(pk=line.pk)
        CostShareLine.history.bulk_history_create(
            [current], update=True, default_user=actor, default_date=now
        )
        timeline_add(
            grievance=locked_grievance,
            kind=Kind.COST_SHARE,
            actor=actor,
            now=now,
            new_value=str(current.amount),
            note=ui_text(
                gettext_lazy("Paid: %(household)s, %(amount)s yuan."),
                {"household": current.household, "amount": current.amount},
            ),
            is_public=False,
        )
        if not CostShareLine.objects.filter(cost_share=share, paid_at__isnull=True).exists():
            CostShare.objects.filter(pk=share.pk, settled_at__isnull=True).update(settled_at=now)
            share.settled_at = now
            CostShare.history.bulk_history_create(
                [share], update=True, default_user=actor, default_date=now
            )
            timeline_add(
                grievance=locked_grievance,
                kind=Kind.COST_SHARE,
                actor=actor,
                now=now,
                new_value="settled",
                note=ui_text(gettext_lazy("Every household has paid its share.")),
            )
    return current
