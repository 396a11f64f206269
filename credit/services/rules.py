"""The scoring standard: installing the default set and versioning rule changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Community, Street
from credit.models import ScoringRule
from credit.standard import STANDARD


def standard_install(
    *, street: Street, actor: Any = None, valid_from: dt.date | None = None
) -> int:
    """Give a street the default standard (评定标准); rules it already has are kept."""
    created = 0
    with transaction.atomic(durable=True):
        for spec in STANDARD:
            _rule, made = ScoringRule.objects.get_or_create(
                street=street,
                community=None,
                code=spec["code"],
                is_current=True,
                defaults={
                    **{k: v for k, v in spec.items() if k != "code"},
                    "created_by": actor,
                    "valid_from": valid_from or timezone.localdate(),
                },
            )
            created += made
    return created


def rule_revise(*, rule: ScoringRule, actor: Any, **changes: Any) -> ScoringRule:
    """Change a rule by adding a new version (修订); entries keep the version they used."""
    with transaction.atomic(durable=True):
        current = ScoringRule.objects.select_for_update().get(pk=rule.pk)
        if not current.is_current:
            raise ValidationError(_("Only the current version of a rule can be revised."))
        ScoringRule.objects.filter(pk=current.pk).update(is_current=False)
        fields = {
            f.name: getattr(current, f.name)
            for f in ScoringRule._meta.concrete_fields
            if f.name not in ("id", "version", "is_current", "created_at", "created_by")
        }
        fields.update(changes)
        new = ScoringRule(
            **fields,
            version=current.version + 1,
            is_current=True,
            created_at=timezone.now(),
            created_by=actor,
        )
        new.full_clean(validate_unique=False)
        new._history_user = actor  # type: ignore[attr-defined]
        new.save()
        return new


def rule_for(*, community: Community, code: str) -> ScoringRule:
    """The current rule with `code` in force for a community: its own, else the street's."""
    own = ScoringRule.objects.filter(community=community, code=code, is_current=True).first()
    if own is not None:
        return own
    return ScoringRule.objects.get(
        street_id=community.street_id, community=None, code=code, is_current=True
    )
