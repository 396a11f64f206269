"""The escalation ladder (DESIGN §5): who hears about a clock at each rung, and when.

    level 0  warning      the handler
    level 1  breach       the handler and the grid worker(s) of the building's grid
    level 2  escalation   the community office (community admins and staff)
    level 3  escalation   the street supervisor(s) of the community's street

"The handler" is the person the grievance is dispatched to, else the active property or
partner-unit staff of the handling organization. When nobody answers to that (no
handler yet, an organization without staff accounts) the community office hears
instead: a warning nobody receives is no warning.

The time between rungs is derived from the promise, so a 10-minute arrival does not wait
a day to reach the office and a 15-working-day repair does not page the street an hour
late: 24×7 clocks climb one rung every max(target, 30 minutes); working-day clocks one
rung per working day. Rungs are counted from the due time, not from when a sweep got
round to it, so they are the same whether the sweep ran every 10 seconds or came back
after an outage (then the rungs already due are climbed at once).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Q
from django.urls import reverse

from accounts.models import User
from community.models import Membership
from grievances.models import Grievance, SlaClockSpec
from grievances.sla.calendar import add_working_days

Role = Membership.Role

WARNING_LEVEL = 0
BREACH_LEVEL = 1
OFFICE_LEVEL = 2
STREET_LEVEL = 3
TOP_LEVEL = STREET_LEVEL
#: The shortest time between two rungs of a 24×7 clock.
MIN_RUNG = dt.timedelta(minutes=30)

HANDLER_ROLES = (Role.PROPERTY_STAFF, Role.PARTNER_STAFF)
OFFICE_ROLES = (Role.COMMUNITY_ADMIN, Role.COMMUNITY_STAFF)


def grievance_path(pk: int) -> str:
    """The page of a grievance, for links in notifications."""
    return reverse("grievances:detail", args=[pk])


def next_rung_at(spec: Mapping[str, Any], after: dt.datetime) -> dt.datetime:
    """When the next rung is due, one rung after `after`, from the clock's snapshot."""
    if spec.get("calendar") == SlaClockSpec.Calendar.WORKING_DAYS:
        return add_working_days(after, 1)
    target = dt.timedelta(minutes=int(spec.get("target_minutes") or 0))
    return after + max(target, MIN_RUNG)


def _building_grid_id(grievance: Grievance) -> int | None:
    """The grid of the grievance's building (given, or through its unit or household)."""
    building = grievance.building
    if building is None and grievance.unit is not None:
        building = grievance.unit.building
    if building is None and grievance.household is not None:
        building = grievance.household.unit.building
    return building.grid_id if building is not None else None


def grievances_for_ladder(ids: Iterable[int]) -> dict[int, Grievance]:
    """The grievances a batch of clocks belongs to, with what the ladder reads, by pk."""
    rows = Grievance.objects.filter(pk__in=set(ids)).select_related(
        "community",
        "category",
        "handler_user",
        "building",
        "unit__building",
        "household__unit__building",
    )
    return {grievance.pk: grievance for grievance in rows}


def ladder_recipients(grievances: Iterable[Grievance], level: int) -> dict[int, list[User]]:
    """Who hears about each grievance at `level`, by grievance pk (few queries per batch)."""
    grievances = list(grievances)
    wanted: dict[str, set[int]] = defaultdict(set)
    for grievance in grievances:
        if (
            level <= BREACH_LEVEL
            and grievance.handler_user_id is None
            and grievance.handler_organization_id
        ):
            wanted["organization"].add(grievance.handler_organization_id)
        if level == BREACH_LEVEL and (grid_id := _building_grid_id(grievance)):
            wanted["grid"].add(grid_id)
        # The office: its own rung, and the fallback of a handler nobody answers for.
        wanted["community"].add(grievance.community_id)
        if level == STREET_LEVEL:
            wanted["street"].add(grievance.community.street_id)
    members = _members(wanted)
    recipients: dict[int, list[User]] = {}
    for grievance in grievances:
        users: list[User] = []
        office = members[("community", grievance.community_id)]
        if level <= BREACH_LEVEL:
            if grievance.handler_user is not None and grievance.handler_user.is_active:
                users.append(grievance.handler_user)
            elif grievance.handler_organization_id:
                users += members[("organization", grievance.handler_organization_id)]
            if not users:
                users += office
        if level == BREACH_LEVEL and (grid_id := _building_grid_id(grievance)):
            users += members[("grid", grid_id)]
        if level == OFFICE_LEVEL:
            users += office
        if level == STREET_LEVEL:
            users += members[("street", grievance.community.street_id)]
        recipients[grievance.pk] = _unique(users)
    return recipients


def _members(wanted: Mapping[str, set[int]]) -> dict[tuple[str, int], list[User]]:
    """Active users holding the ladder's roles in the wanted areas, in one query."""
    query = Q()
    if wanted.get("organization"):
        query |= Q(role__in=HANDLER_ROLES, organization_id__in=wanted["organization"])
    if wanted.get("grid"):
        query |= Q(role=Role.GRID_WORKER, grid_id__in=wanted["grid"])
    if wanted.get("community"):
        query |= Q(role__in=OFFICE_ROLES, community_id__in=wanted["community"])
    if wanted.get("street"):
        query |= Q(role=Role.STREET_SUPERVISOR, street_id__in=wanted["street"])
    found: dict[tuple[str, int], list[User]] = defaultdict(list)
    if not query:
        return found
    rows = (
        Membership.objects.filter(query, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user_id", "pk")
    )
    for membership in rows:
        if membership.role in HANDLER_ROLES and membership.organization_id:
            found[("organization", membership.organization_id)].append(membership.user)
        elif membership.role == Role.GRID_WORKER and membership.grid_id:
            found[("grid", membership.grid_id)].append(membership.user)
        elif membership.role in OFFICE_ROLES and membership.community_id:
            found[("community", membership.community_id)].append(membership.user)
        elif membership.role == Role.STREET_SUPERVISOR and membership.street_id:
            found[("street", membership.street_id)].append(membership.user)
    return found


def _unique(users: Iterable[User]) -> list[User]:
    seen: set[int] = set()
    unique = []
    for user in users:
        if user.pk not in seen:
            seen.add(user.pk)
            unique.append(user)
    return unique
