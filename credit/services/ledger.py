"""Writes to the points ledger (DESIGN §4). Nothing outside credit writes an entry.

Every function here runs inside its caller's transaction (`atomic(savepoint=False)`):
other apps award points as part of their own writes (volunteer hours confirmed, a fee
paid), so the award commits or rolls back with the event that earned it.

Locking: every path that reads a balance, a cap or an idempotency key and then writes
first locks the resident's account row (`select_for_update`), several in primary-key
order. That serialises concurrent awards, spends, replays and reversals of one
resident; the unique key, the unique reversal and `balance >= 0` are the last guards.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Membership, Resident
from credit.models import PointsAccount, PointsEntry, ScoringRule

Kind = PointsEntry.Kind


def resident_community_id(resident: Resident) -> int:
    """The resident's community; a selector that loaded it (as `community_id`) saves a query."""
    annotated = getattr(resident, "community_id", None)
    if annotated is not None:
        return int(annotated)
    return (
        Resident.objects.filter(pk=resident.pk)
        .values_list("household__unit__building__estate__community_id", flat=True)
        .get()
    )


def account_for(*, resident: Resident) -> PointsAccount:
    """The resident's account, created on first use."""
    account, _created = PointsAccount.objects.get_or_create(
        resident=resident,
        defaults={
            "kind": PointsAccount.Kind.RESIDENT,
            "community_id": resident_community_id(resident),
        },
    )
    return account


def system_account(*, community_id: int, kind: str) -> PointsAccount:
    """A community's issuance, supermarket or expired-points account."""
    account, _created = PointsAccount.objects.get_or_create(community_id=community_id, kind=kind)
    return account


def _lock(accounts: Iterable[PointsAccount]) -> dict[int, PointsAccount]:
    """Lock the resident accounts among `accounts`, in primary-key order (no deadlocks)."""
    ids = sorted({a.pk for a in accounts if a.kind == PointsAccount.Kind.RESIDENT})
    return {
        a.pk: a for a in PointsAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }


def _replay(key: str, account: PointsAccount) -> PointsEntry | None:
    existing = PointsEntry.objects.filter(idempotency_key=key).first()
    if existing is not None and account.pk not in (
        existing.credit_account_id,
        existing.debit_account_id,
    ):
        raise ValidationError(_("This idempotency key was already used for another account."))
    return existing


def _move(
    *,
    kind: str,
    debit: PointsAccount,
    credit: PointsAccount,
    amount: int,
    key: str,
    now: dt.datetime,
    **fields: Any,
) -> PointsEntry:
    entry = PointsEntry.objects.create(
        kind=kind,
        debit_account=debit,
        credit_account=credit,
        amount=amount,
        community_id=(credit if credit.kind == PointsAccount.Kind.RESIDENT else debit).community_id,
        idempotency_key=key,
        created_at=now,
        **fields,
    )
    for account, delta in ((debit, -amount), (credit, amount)):
        if account.kind == PointsAccount.Kind.RESIDENT:
            PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + delta)
            account.balance += delta
    return entry


def _source_fields(source: models.Model | None) -> dict[str, Any]:
    if source is None:
        return {}
    return {"source_type": ContentType.objects.get_for_model(source), "source_id": str(source.pk)}


def _local_period_start(now: dt.datetime, period: str) -> dt.datetime:
    local = timezone.localtime(now)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        return day.replace(day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    return day


def _awarded_since(account: PointsAccount, rule: ScoringRule, since: dt.datetime) -> int:
    """Points the account kept from awards under the rule's code since `since`."""
    total = PointsEntry.objects.filter(
        kind=Kind.AWARD,
        credit_account=account,
        rule__code=rule.code,
        created_at__gte=since,
        reversal__isnull=True,
    ).aggregate(total=Sum("amount"))["total"]
    return int(total or 0)


def _cap_room(account: PointsAccount, rule: ScoringRule, now: dt.datetime) -> int | None:
    """How many more points the caps allow today / this month / this year (None: no cap)."""
    room: int | None = None
    for period, cap in (("day", rule.cap_day), ("month", rule.cap_month), ("year", rule.cap_year)):
        if cap is None:
            continue
        left = cap - _awarded_since(account, rule, _local_period_start(now, period))
        room = left if room is None else min(room, left)
    return None if room is None else max(room, 0)


def _check_rule_valid(rule: ScoringRule, now: dt.datetime) -> None:
    today = timezone.localdate(now)
    if rule.valid_from > today or (rule.valid_to is not None and rule.valid_to < today):
        raise ValidationError(_("This rule is not in force on that date."), code="rule_not_valid")


def _check_awarder(actor: Any, rule: ScoringRule, community_id: int) -> None:
    """Only the roles the rule names may award it, in the resident's community."""
    if actor is None or actor.is_superuser or not rule.awarder_roles:
        return
    memberships = Membership.objects.filter(
        user=actor, is_active=True, role__in=rule.awarder_roles
    ).filter(
        Q(community_id=community_id)
        | Q(grid__community_id=community_id)
        | Q(estate__community_id=community_id)
        | Q(street__communities=community_id)
        | Q(organization__estates_served__community_id=community_id)
    )
    if not memberships.exists():
        raise PermissionDenied(_("Your role may not award this rule here."))


def points_amount(rule: ScoringRule, quantity: Decimal) -> int:
    """Points for `quantity` units (hours, kg, events), rounded down to whole points."""
    return math.floor(abs(rule.points) * Decimal(quantity))


@transaction.atomic(savepoint=False)
def points_award(
    *,
    resident: Resident,
    rule: ScoringRule,
    key: str,
    now: dt.datetime,
    quantity: Decimal | int = 1,
    actor: Any = None,
    on_behalf_of: Resident | None = None,
    source: models.Model | None = None,
    note: str = "",
    awarder_checked: bool = False,
) -> PointsEntry:
    """Award points under a rule (加分); idempotent by `key`, within the rule's caps.

    Over a cap, the award is cut to what the cap allows; at the cap it is refused.
    `actor` must hold one of the rule's awarder roles, unless the caller checked who may
    award already (`awarder_checked`: a maker-checker request, checked for its maker).
    """
    if rule.points <= 0:
        raise ValidationError(_("A deduction rule cannot award points."), code="not_award")
    account = account_for(resident=resident)
    account = _lock([account])[account.pk]  # the locked read is the fresh balance
    if (replayed := _replay(key, account)) is not None:
        return replayed
    _check_rule_valid(rule, now)
    if not awarder_checked:
        _check_awarder(actor, rule, account.community_id)
    amount = points_amount(rule, Decimal(quantity))
    room = _cap_room(account, rule, now)
    if room is not None:
        amount = min(amount, room)
    if amount <= 0:
        raise ValidationError(_("The cap of this rule has been reached."), code="cap_reached")
    issuance = system_account(community_id=account.community_id, kind=PointsAccount.Kind.ISSUANCE)
    return _move(
        kind=Kind.AWARD,
        debit=issuance,
        credit=account,
        amount=amount,
        key=key,
        now=now,
        rule=rule,
        quantity=Decimal(quantity),
        actor=actor,
        on_behalf_of=on_behalf_of,
        note=note,
        **_source_fields(source),
    )


@transaction.atomic(savepoint=False)
def points_deduct(
    *,
    resident: Resident,
    rule: ScoringRule,
    key: str,
    now: dt.datetime,
    quantity: Decimal | int = 1,
    actor: Any = None,
    source: models.Model | None = None,
    note: str = "",
) -> PointsEntry | None:
    """Take points for misconduct (扣分), once the deduction stands after its appeal window.

    A balance never goes below zero: the deduction takes what is there (the deduction
    record keeps the full amount for the grey list). Returns None when there was nothing.
    """
    if rule.points >= 0:
        raise ValidationError(_("Only a misconduct rule deducts points."), code="not_deduction")
    account = account_for(resident=resident)
    account = _lock([account])[account.pk]  # the locked read is the fresh balance
    if (replayed := _replay(key, account)) is not None:
        return replayed
    amount = min(points_amount(rule, Decimal(quantity)), account.balance)
    if amount <= 0:
        return None
    issuance = system_account(community_id=account.community_id, kind=PointsAccount.Kind.ISSUANCE)
    return _move(
        kind=Kind.DEDUCTION,
        debit=account,
        credit=issuance,
        amount=amount,
        key=key,
        now=now,
        rule=rule,
        quantity=Decimal(quantity),
        actor=actor,
        note=note,
        **_source_fields(source),
    )


@transaction.atomic(savepoint=False)
def points_spend(
    *,
    resident: Resident,
    amount: int,
    key: str,
    now: dt.datetime,
    actor: Any = None,
    source: models.Model | None = None,
    note: str = "",
) -> PointsEntry:
    """Spend points at the credit supermarket (兑换); refused when the balance is short."""
    if amount <= 0:
        raise ValidationError(_("Enter a positive number of points."), code="amount")
    account = account_for(resident=resident)
    account = _lock([account])[account.pk]  # the locked read is the fresh balance
    if (replayed := _replay(key, account)) is not None:
        return replayed
    if account.balance < amount:
        raise ValidationError(
            _("Not enough points: %(balance)s available, %(amount)s needed.")
            % {"balance": account.balance, "amount": amount},
            code="insufficient",
        )
    supermarket = system_account(
        community_id=account.community_id, kind=PointsAccount.Kind.SUPERMARKET
    )
    return _move(
        kind=Kind.REDEMPTION,
        debit=account,
        credit=supermarket,
        amount=amount,
        key=key,
        now=now,
        actor=actor,
        note=note,
        **_source_fields(source),
    )


@transaction.atomic(savepoint=False)
def points_reverse(
    *, entry: PointsEntry, now: dt.datetime, actor: Any = None, reason: str = ""
) -> PointsEntry:
    """Undo an entry with a new one pointing at it (冲正); an entry is reversed once only.

    Reversing again returns the first reversal. Reversing an award whose points were
    already spent is refused: the balance may not go below zero.
    """
    if entry.kind == Kind.REVERSAL:
        raise ValidationError(_("A reversal cannot itself be reversed."), code="reversal")
    debit, credit = entry.credit_account, entry.debit_account
    locked = _lock([debit, credit])
    existing = PointsEntry.objects.filter(reverses=entry).first()
    if existing is not None:
        return existing
    if debit.pk in locked and locked[debit.pk].balance < entry.amount:
        raise ValidationError(
            _("These points were already spent; they cannot be taken back."), code="spent"
        )
    return _move(
        kind=Kind.REVERSAL,
        debit=locked.get(debit.pk, debit),
        credit=locked.get(credit.pk, credit),
        amount=entry.amount,
        key=f"reversal:{entry.pk}",
        now=now,
        reverses=entry,
        actor=actor,
        note=reason[:200],
    )
