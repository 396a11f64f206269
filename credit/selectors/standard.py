"""Reads of the scoring standard (评定标准) as the public sees it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from community.models import Community, Membership
from credit.models import ScoringRule
from credit.selectors.boards import member_community_ids
from credit.standard import STANDARD

_STANDARD_ORDER = {spec["code"]: i for i, spec in enumerate(STANDARD)}
_CATEGORY_ORDER = {value: i for i, value in enumerate(ScoringRule.Category.values)}


@dataclass(frozen=True)
class StandardRule:
    """One line of the public standard, worded for residents."""

    code: str
    name: str
    points: int
    points_text: str
    unit: str
    caps: str
    awarders: str
    evidence: str
    description: str
    is_deduction: bool
    is_local: bool  # the community's own rule or override, not the street default


@dataclass
class StandardCategory:
    """One heading of the public standard and its rules, in the standard's order."""

    code: str
    label: str
    rules: list[StandardRule] = field(default_factory=list)


def rules_in_force(*, community: Community, today: dt.date | None = None) -> list[ScoringRule]:
    """Current versions in force for a community: its own rules, else the street default."""
    today = today or timezone.localdate()
    in_force = Q(valid_from__lte=today) & (Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    rules: QuerySet[ScoringRule] = ScoringRule.objects.filter(
        Q(community=community) | Q(community__isnull=True, street_id=community.street_id),
        in_force,
        is_current=True,
    )
    chosen: dict[str, ScoringRule] = {}
    for rule in rules:
        # The community's own version wins over the street's default of the same code.
        if rule.code not in chosen or rule.community_id is not None:
            chosen[rule.code] = rule
    return sorted(
        chosen.values(),
        key=lambda r: (
            _CATEGORY_ORDER.get(r.category, 99),
            _STANDARD_ORDER.get(r.code, len(_STANDARD_ORDER)),
            r.name,
        ),
    )


def standard_for(*, community: Community, today: dt.date | None = None) -> list[StandardCategory]:
    """The standard in force for a community, grouped by category (one query)."""
    groups: dict[str, StandardCategory] = {}
    for rule in rules_in_force(community=community, today=today):
        group = groups.get(rule.category)
        if group is None:
            group = groups[rule.category] = StandardCategory(
                code=rule.category, label=rule.get_category_display()
            )
        group.rules.append(
            StandardRule(
                code=rule.code,
                name=rule.name,
                points=rule.points,
                points_text=rule_points_text(rule),
                unit=str(rule.get_unit_display()),
                caps=rule_caps_text(rule),
                awarders=rule_awarders_text(rule),
                evidence=str(rule.get_evidence_display()),
                description=rule.description,
                is_deduction=rule.points < 0,
                is_local=rule.community_id is not None,
            )
        )
    return list(groups.values())


def kg_rules_for(*, community: Community, today: dt.date | None = None) -> list[ScoringRule]:
    """The per-kg rules (garbage sorting by weight) in force for a community."""
    return [
        r
        for r in rules_in_force(community=community, today=today)
        if r.unit == ScoringRule.Unit.KG and r.points > 0
    ]


def standard_community(*, user: Any, code: str | None = None) -> Community:
    """The community whose standard a page shows.

    By code the standard is public (anyone, logged in or not, may read it); without a
    code it is the community of the logged-in user. Raises Community.DoesNotExist.
    """
    if code is not None:
        return Community.objects.get(code=code)
    ids = member_community_ids(user)
    return Community.objects.filter(pk__in=ids).order_by("id")[:1].get()


def standard_communities(*, user: Any) -> QuerySet[Community]:
    """Every community the user belongs to (a street supervisor has several)."""
    return Community.objects.filter(pk__in=member_community_ids(user)).order_by("name", "id")


# --- Plain-language wording of a rule ----------------------------------------------------


def rule_points_text(rule: ScoringRule) -> str:
    """'+2' for an award, '−20' for a deduction (a real minus sign)."""
    return f"+{rule.points}" if rule.points > 0 else f"−{abs(rule.points)}"


def rule_caps_text(rule: ScoringRule) -> str:
    """The caps in words, e.g. 'at most 16 points a day, 30 a month'; empty: no cap."""
    parts = []
    if rule.cap_day is not None:
        parts.append(
            ngettext("%(n)s point a day", "%(n)s points a day", rule.cap_day) % {"n": rule.cap_day}
        )
    if rule.cap_month is not None:
        parts.append(
            ngettext("%(n)s point a month", "%(n)s points a month", rule.cap_month)
            % {"n": rule.cap_month}
        )
    if rule.cap_year is not None:
        parts.append(
            ngettext("%(n)s point a year", "%(n)s points a year", rule.cap_year)
            % {"n": rule.cap_year}
        )
    if not parts:
        return _("no cap")
    joined = _(", ").join(parts)
    if rule.points < 0:
        return _("at most %(caps)s deducted") % {"caps": joined}
    return _("at most %(caps)s") % {"caps": joined}


def rule_awarders_text(rule: ScoringRule) -> str:
    """Who may award or record the rule, in words."""
    labels = dict(Membership.Role.choices)
    names = [str(labels.get(role, role)) for role in rule.awarder_roles]
    return _(", ").join(names) if names else _("any community worker")
