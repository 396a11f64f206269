"""Reads of the garbage weighing point (垃圾分类称重点): who weighs, for whom, the slip."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from community.models import Community, Membership, Resident
from community.selectors import resident_search_q
from credit.models import GarbageWeighing, PointsAccount, ScoringRule
from credit.selectors.boards import display_building, display_surname, roles_by_community
from credit.selectors.standard import kg_rules_for
from credit.services.ledger import points_amount

Role = Membership.Role

#: Who runs a weighing point besides the roles the per-kg rules name.
WEIGHER_ROLES = frozenset({Role.SUPERMARKET_CLERK, Role.COMMUNITY_STAFF, Role.COMMUNITY_ADMIN})
SEARCH_LIMIT = 20


def _may_award(user: Any, roles: set[str], rule: ScoringRule) -> bool:
    # The same test as the ledger's: the rule's roles, or anyone when it names none.
    return bool(user.is_superuser or not rule.awarder_roles or roles & set(rule.awarder_roles))


def weighing_community_ids(user: Any) -> set[int]:
    """Communities where the user may run the weighing point."""
    if user is None or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(Community.objects.values_list("id", flat=True))
    result = set()
    for community_id, roles in roles_by_community(user).items():
        roles = roles - {"resident"}
        if not roles:
            continue
        if roles & WEIGHER_ROLES:
            result.add(community_id)
            continue
        community = Community.objects.get(pk=community_id)
        if any(_may_award(user, roles, r) for r in kg_rules_for(community=community)):
            result.add(community_id)
    return result


def weighing_rules(*, user: Any, community_id: int) -> list[ScoringRule]:
    """The per-kg rules the user may award in a community; empty when they may not weigh."""
    if community_id not in weighing_community_ids(user):
        return []
    roles = roles_by_community(user).get(community_id, set())
    community = Community.objects.get(pk=community_id)
    return [r for r in kg_rules_for(community=community) if _may_award(user, roles, r)]


def weighing_residents(*, user: Any) -> QuerySet[Resident]:
    """Residents living in the communities where the user weighs."""
    return Resident.objects.filter(
        household__unit__building__estate__community_id__in=sorted(weighing_community_ids(user)),
        status=Resident.Status.ACTIVE,
    )


def weighing_resident_search(*, user: Any, term: str) -> list[Resident]:
    """Find a resident at the weighing point: by name, the whole phone or its last 4 digits.

    The registry's own search rule (community.selectors.resident_search_q): a longer run
    of digits would let anyone uncover a masked phone a digit at a time.
    """
    term = term.strip()
    if not term:
        return []
    qs = weighing_residents(user=user).filter(resident_search_q(term))
    return list(
        qs.select_related("household__unit__building__estate").order_by("name", "id")[:SEARCH_LIMIT]
    )


def weighing_resident(*, user: Any, pk: int) -> Resident:
    """One resident the user may weigh for; Resident.DoesNotExist otherwise (404)."""
    return (
        weighing_residents(user=user).select_related("household__unit__building__estate").get(pk=pk)
    )


@dataclass(frozen=True)
class SlipLine:
    name: str
    kg: Decimal
    points: int  # awarded
    earned: int  # what the weight was worth before caps
    capped: bool


@dataclass(frozen=True)
class WeighingSlip:
    pk: int
    name: str  # surname + **
    building: str
    weighed_at: Any
    lines: list[SlipLine]
    total: int
    balance: int


def weighing_slip(*, user: Any, pk: int) -> WeighingSlip:
    """The slip of one weighing, for the weighing point or the resident who brought it.

    Raises GarbageWeighing.DoesNotExist when out of scope (404).
    """
    weighing = (
        GarbageWeighing.objects.select_related("resident__household__unit__building")
        .prefetch_related("lines__rule", "lines__entry")
        .get(pk=pk)
    )
    own = user.is_authenticated and weighing.resident.user_id == user.pk
    if not own and weighing.community_id not in weighing_community_ids(user):
        raise GarbageWeighing.DoesNotExist
    lines = []
    for line in sorted(weighing.lines.all(), key=lambda x: x.pk):
        earned = points_amount(line.rule, line.kg)
        points = line.entry.amount if line.entry is not None else 0
        lines.append(SlipLine(line.rule.name, line.kg, points, earned, points < earned))
    balance = (
        PointsAccount.objects.filter(resident_id=weighing.resident_id)
        .values_list("balance", flat=True)
        .first()
    )
    return WeighingSlip(
        pk=weighing.pk,
        name=display_surname(weighing.resident.name),
        building=display_building(weighing.resident.household.unit.building.number),
        weighed_at=timezone.localtime(weighing.weighed_at),
        lines=lines,
        total=sum(line.points for line in lines),
        balance=balance or 0,
    )
