"""Garbage sorting by weight (垃圾分类称重): a visit to the weighing point earns points.

The weighing point's phone page records what a resident brought, one line per
category, each awarded under that category's per-kg rule with the key
`garbage:<line id>`. A line over its cap earns less or nothing; the others still count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from community.models import Resident
from credit.models import GarbageWeighing, GarbageWeighingLine, PointsAccount, ScoringRule
from credit.selectors.garbage import weighing_rules
from credit.services.ledger import account_for, points_award, resident_community_id

#: No bag at a weighing point weighs more; a bigger number is a typing mistake.
MAX_KG = Decimal("200")


def _check_lines(
    lines: Sequence[tuple[ScoringRule, Decimal]], allowed: dict[int, ScoringRule]
) -> list[tuple[ScoringRule, Decimal]]:
    if not lines:
        raise ValidationError(_("Enter the weight of at least one category."), code="no_lines")
    seen: set[int] = set()
    checked = []
    for rule, kg in lines:
        kg = Decimal(kg)
        if rule.pk not in allowed:
            raise PermissionDenied(_("You may not record %(name)s here.") % {"name": rule.name})
        if rule.pk in seen:
            raise ValidationError(_("Each category is weighed once per visit."), code="duplicate")
        seen.add(rule.pk)
        if kg <= 0 or kg > MAX_KG:
            raise ValidationError(
                _("%(name)s: enter a weight above 0 and at most %(max)s kg.")
                % {"name": rule.name, "max": MAX_KG},
                code="kg",
            )
        checked.append((allowed[rule.pk], kg.quantize(Decimal("0.01"))))
    return checked


def garbage_weighing_record(
    *,
    actor: Any,
    resident: Resident,
    lines: Sequence[tuple[ScoringRule, Decimal]],
    key: str,
    now: dt.datetime,
) -> GarbageWeighing:
    """Record one visit to the weighing point and award its points (称重积分).

    Idempotent by `key` (the form's hidden key): a double submit records once and
    returns the first weighing.
    """
    if not key or len(key) > 150:
        raise ValidationError(_("The form has expired; open it again."), code="key")
    community_id = resident_community_id(resident)
    allowed = {rule.pk: rule for rule in weighing_rules(user=actor, community_id=community_id)}
    if not allowed:
        raise PermissionDenied(_("You may not record weighings in this community."))
    with transaction.atomic(durable=True):
        # The account lock serialises two submits of the same form: the second waits,
        # then finds the first weighing by its key instead of recording it again.
        account = account_for(resident=resident)
        PointsAccount.objects.select_for_update().filter(pk=account.pk).get()
        existing = GarbageWeighing.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.resident_id != resident.pk:
                raise ValidationError(
                    _("This form was already used for another resident."), code="key_reused"
                )
            return existing
        checked = _check_lines(lines, allowed)
        weighing = GarbageWeighing.objects.create(
            community_id=community_id,
            resident=resident,
            weighed_by=actor,
            weighed_at=now,
            idempotency_key=key,
        )
        for rule, kg in checked:
            line = GarbageWeighingLine.objects.create(weighing=weighing, rule=rule, kg=kg)
            try:
                # A savepoint per line: a line at its cap is refused alone.
                with transaction.atomic():
                    entry = points_award(
                        resident=resident,
                        rule=rule,
                        key=f"garbage:{line.pk}",
                        quantity=kg,
                        now=now,
                        actor=actor,
                        source=weighing,
                        note=_("Garbage weighing"),
                    )
            except ValidationError as exc:
                # At the cap, or under one point (0.4 kg at 1 point per kg): no points.
                if exc.code != "cap_reached":
                    raise
                continue
            line.entry = entry
            line.save(update_fields=["entry"])
        return weighing
