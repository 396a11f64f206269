"""Reads of the red and grey list (红灰榜) and of who belongs to which community.

A published board is public within its community: any logged-in resident, worker or
member of staff of that community may read it; nobody else learns it exists (404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Building, Community, Estate, Membership, Resident
from community.scoping import scope_for
from credit.models import BoardSnapshot, RedListOptOut

Role = Membership.Role

#: Who may publish a board: the community office.
PUBLISHER_ROLES = frozenset({Role.COMMUNITY_ADMIN, Role.COMMUNITY_STAFF})


def roles_by_community(user: Any) -> dict[int, set[str]]:
    """The user's active roles, per community they apply in (one query).

    A resident's own household counts as the pseudo-role "resident". Computed once per
    user object (i.e. per request), like community.scoping.scope_for.
    """
    result: dict[int, set[str]] = {}
    if user is None or not user.is_authenticated or not user.is_active:
        return result
    cached = getattr(user, "_linli_credit_roles", None)
    if cached is not None:
        return cached
    rows = (
        Membership.objects.filter(user=user, is_active=True)
        .values_list(
            "role",
            "community_id",
            "grid__community_id",
            "estate__community_id",
            "street_id",
            "organization_id",
        )
        .order_by("id")
    )
    streets: dict[int, set[str]] = {}
    orgs: dict[int, set[str]] = {}
    for role, community_id, grid_community, estate_community, street_id, org_id in rows:
        if role == Role.STREET_SUPERVISOR and street_id:
            streets.setdefault(street_id, set()).add(role)
            continue
        if role == Role.PROPERTY_STAFF and org_id:
            orgs.setdefault(org_id, set()).add(role)
            continue
        cid = community_id or grid_community or estate_community
        if cid:
            result.setdefault(cid, set()).add(role)
    if streets:
        for cid, street_id in Community.objects.filter(street_id__in=streets).values_list(
            "id", "street_id"
        ):
            result.setdefault(cid, set()).update(streets[street_id])
    if orgs:
        for cid, org_id in Estate.objects.filter(property_company_id__in=orgs).values_list(
            "community_id", "property_company_id"
        ):
            result.setdefault(cid, set()).update(orgs[org_id])
    home = scope_for(user).household_ids
    if home:
        for cid in Resident.objects.filter(user=user, status=Resident.Status.ACTIVE).values_list(
            "household__unit__building__estate__community_id", flat=True
        ):
            result.setdefault(cid, set()).add("resident")
    user._linli_credit_roles = result
    return result


def member_community_ids(user: Any) -> set[int]:
    """Every community the user lives or works in (all of them for a superuser)."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return set(Community.objects.values_list("id", flat=True))
    return set(roles_by_community(user))


def publisher_community_ids(user: Any) -> set[int]:
    """Communities whose boards the user may publish: staff and admins of that office."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return set(Community.objects.values_list("id", flat=True))
    return {cid for cid, roles in roles_by_community(user).items() if roles & PUBLISHER_ROLES}


def display_surname(name: str) -> str:
    """'张建国' -> '张**'. Compound surnames (欧阳) are rare: the first character it is."""
    name = (name or "").strip()
    return f"{name[:1]}**" if name else "**"


def display_building(number: str) -> str:
    """'3号楼' stays '3号楼'; a bare '3' becomes '3号楼'."""
    number = (number or "").strip()
    return f"{number}号楼" if number.isdigit() else number


# --- Published boards ---------------------------------------------------------------------


def board_list(*, user: Any, community_id: int | None = None) -> QuerySet[BoardSnapshot]:
    """Published boards of the user's communities, newest period first."""
    qs = BoardSnapshot.objects.filter(community_id__in=sorted(member_community_ids(user)))
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    return qs.select_related("community").order_by(
        "-period_start", "community_id", "area_kind", "area_name", "-id"
    )


def board_get(*, user: Any, pk: int) -> BoardSnapshot:
    """One published board of the user's communities; BoardSnapshot.DoesNotExist otherwise."""
    return board_list(user=user).get(pk=pk)


# --- The publish form ---------------------------------------------------------------------


@dataclass(frozen=True)
class AreaChoice:
    value: str  # "community:3", "estate:7", "building:12"
    label: str
    community_id: int


@dataclass(frozen=True)
class PeriodChoice:
    value: str  # "month:2026-10-01"
    period: str
    start: dt.date
    end: dt.date


def publish_areas(*, user: Any) -> list[AreaChoice]:
    """The areas the user may publish a board for: their communities, estates, buildings."""
    ids = sorted(publisher_community_ids(user))
    choices: list[AreaChoice] = []
    communities = Community.objects.filter(pk__in=ids).order_by("name", "id")
    estates = Estate.objects.filter(community_id__in=ids).order_by("name", "id")
    buildings = (
        Building.objects.filter(estate__community_id__in=ids)
        .select_related("estate")
        .order_by("estate__name", "estate_id", "number", "id")
    )
    by_community: dict[int, list[AreaChoice]] = {c.pk: [] for c in communities}
    for estate in estates:
        by_community[estate.community_id].append(
            AreaChoice(f"estate:{estate.pk}", f"· {estate.name}", estate.community_id)
        )
        for building in buildings:
            if building.estate_id == estate.pk:
                by_community[estate.community_id].append(
                    AreaChoice(
                        f"building:{building.pk}",
                        f"· · {estate.name} {building.number}",
                        estate.community_id,
                    )
                )
    for community in communities:
        choices.append(AreaChoice(f"community:{community.pk}", community.name, community.pk))
        choices.extend(by_community[community.pk])
    return choices


def period_bounds(period: str, start: dt.date) -> dt.date:
    """The last day of the period that starts on `start` (month, quarter or year)."""
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    month_index = start.year * 12 + start.month - 1 + months
    next_start = dt.date(month_index // 12, month_index % 12 + 1, 1)
    return next_start - dt.timedelta(days=1)


def recent_periods(*, today: dt.date | None = None) -> list[PeriodChoice]:
    """Recently ended periods to publish: the last 12 months, 4 quarters and 2 years."""
    today = today or timezone.localdate()
    choices: list[PeriodChoice] = []
    first = today.replace(day=1)
    for back in range(1, 13):
        index = first.year * 12 + first.month - 1 - back
        start = dt.date(index // 12, index % 12 + 1, 1)
        choices.append(
            PeriodChoice(f"month:{start:%Y-%m-%d}", "month", start, period_bounds("month", start))
        )
    quarter_first = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    for back in range(1, 5):
        index = quarter_first.year * 12 + quarter_first.month - 1 - 3 * back
        start = dt.date(index // 12, index % 12 + 1, 1)
        choices.append(
            PeriodChoice(
                f"quarter:{start:%Y-%m-%d}", "quarter", start, period_bounds("quarter", start)
            )
        )
    for back in range(1, 3):
        start = dt.date(today.year - back, 1, 1)
        choices.append(
            PeriodChoice(f"year:{start:%Y-%m-%d}", "year", start, period_bounds("year", start))
        )
    return choices


# --- A resident's privacy choice ----------------------------------------------------------


def own_resident(*, user: Any) -> Resident | None:
    """The resident record the user logs in as, if they live in a community."""
    if user is None or not user.is_authenticated:
        return None
    return (
        Resident.objects.filter(user=user, status=Resident.Status.ACTIVE)
        .select_related("household__unit__building__estate__community")
        .first()
    )


def red_list_opted_out(*, resident: Resident) -> bool:
    """Whether the resident asked to be left off the red list."""
    return RedListOptOut.objects.filter(resident=resident).exists()


def period_label(period: str, start: dt.date) -> str:
    """'2026-10', '2026 Q4' or '2026, whole year' (translated: 2026年10月 …)."""
    if period == BoardSnapshot.Period.MONTH:
        return _("%(year)s-%(month)02d") % {"year": start.year, "month": start.month}
    if period == BoardSnapshot.Period.QUARTER:
        return _("%(year)s Q%(quarter)s") % {
            "year": start.year,
            "quarter": (start.month - 1) // 3 + 1,
        }
    return _("%(year)s, whole year") % {"year": start.year}


def board_period_label(board: BoardSnapshot) -> str:
    """The period of a published board in words."""
    return period_label(board.period, board.period_start)
