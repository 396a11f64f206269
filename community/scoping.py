"""Who may see what (DESIGN §3): the one place that decides it.

Every selector, page, admin and API narrows its querysets with `scope_filter`; nothing
filters by area by hand. An object outside the caller's scope is simply not in the
queryset, so a detail view answers 404, never 403 (no one learns that it exists).

- a resident sees their own household;
- a grid worker the buildings of their grids;
- community staff and admins their community;
- a street supervisor their street;
- property staff the estates their company serves;
- superusers everything. Anyone else (partner staff, clerks, committee members, a user
  with no role) sees nothing of the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from community.models import (
    Building,
    Community,
    Estate,
    Grid,
    Household,
    Membership,
    Resident,
    Street,
    Unit,
)

Role = Membership.Role
M = TypeVar("M", bound=Model)

#: Roles that see the registry of an area, and whether they may change it.
REGISTRY_VIEW_ROLES = frozenset(
    {
        Role.COMMUNITY_ADMIN,
        Role.COMMUNITY_STAFF,
        Role.STREET_SUPERVISOR,
        Role.GRID_WORKER,
        Role.PROPERTY_STAFF,
    }
)
REGISTRY_EDIT_ROLES = frozenset({Role.COMMUNITY_ADMIN, Role.COMMUNITY_STAFF})


@dataclass(frozen=True)
class Scope:
    """The areas a user may see; `everything` for superusers."""

    everything: bool = False
    street_ids: frozenset[int] = field(default_factory=frozenset)
    community_ids: frozenset[int] = field(default_factory=frozenset)
    estate_ids: frozenset[int] = field(default_factory=frozenset)
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    household_ids: frozenset[int] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (
            self.everything
            or self.street_ids
            or self.community_ids
            or self.estate_ids
            or self.grid_ids
            or self.household_ids
        )


def scope_for(user: Any) -> Scope:
    """The registry scope of `user`, computed once per user object (i.e. per request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope()
    cached = getattr(user, "_linli_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(everything=True)
    else:
        streets: set[int] = set()
        communities: set[int] = set()
        estates: set[int] = set()
        grids: set[int] = set()
        roles: set[str] = set()
        property_orgs: set[int] = set()
        memberships = Membership.objects.filter(user=user, is_active=True).values_list(
            "role", "street_id", "community_id", "grid_id", "organization_id"
        )
        for role, street_id, community_id, grid_id, org_id in memberships:
            roles.add(role)
            if role == Role.STREET_SUPERVISOR:
                streets.add(street_id)
            elif role in (Role.COMMUNITY_ADMIN, Role.COMMUNITY_STAFF):
                communities.add(community_id)
            elif role == Role.GRID_WORKER:
                grids.add(grid_id)
            elif role == Role.PROPERTY_STAFF:
                property_orgs.add(org_id)
        if property_orgs:
            estates.update(
                Estate.objects.filter(property_company_id__in=property_orgs).values_list(
                    "id", flat=True
                )
            )
        households = set(
            Resident.objects.filter(user=user, status=Resident.Status.ACTIVE).values_list(
                "household_id", flat=True
            )
        )
        scope = Scope(
            street_ids=frozenset(streets),
            community_ids=frozenset(communities),
            estate_ids=frozenset(estates),
            grid_ids=frozenset(grids),
            household_ids=frozenset(households),
            roles=frozenset(roles),
        )
    user._linli_scope = scope
    return scope


def _buildings(**lookup: Any) -> QuerySet[Building]:
    return Building.objects.filter(**lookup)


# For each model: how each kind of area reaches it. A string is a forward lookup to the
# area's id (no duplicate rows); a callable builds a subquery for areas below the model.
_Path = str | Callable[[frozenset[int]], Q]
_PATHS: dict[type[Model], dict[str, _Path]] = {
    Resident: {
        "street": "household__unit__building__estate__community__street_id",
        "community": "household__unit__building__estate__community_id",
        "estate": "household__unit__building__estate_id",
        "grid": "household__unit__building__grid_id",
        "household": "household_id",
    },
    Household: {
        "street": "unit__building__estate__community__street_id",
        "community": "unit__building__estate__community_id",
        "estate": "unit__building__estate_id",
        "grid": "unit__building__grid_id",
        "household": "id",
    },
    Unit: {
        "street": "building__estate__community__street_id",
        "community": "building__estate__community_id",
        "estate": "building__estate_id",
        "grid": "building__grid_id",
        "household": lambda ids: Q(id__in=Household.objects.filter(id__in=ids).values("unit_id")),
    },
    Building: {
        "street": "estate__community__street_id",
        "community": "estate__community_id",
        "estate": "estate_id",
        "grid": "grid_id",
        "household": lambda ids: Q(
            id__in=Household.objects.filter(id__in=ids).values("unit__building_id")
        ),
    },
    Estate: {
        "street": "community__street_id",
        "community": "community_id",
        "estate": "id",
        "grid": lambda ids: Q(id__in=_buildings(grid_id__in=ids).values("estate_id")),
        "household": lambda ids: Q(
            id__in=Household.objects.filter(id__in=ids).values("unit__building__estate_id")
        ),
    },
    Grid: {
        "street": "community__street_id",
        "community": "community_id",
        "estate": lambda ids: Q(id__in=_buildings(estate_id__in=ids).values("grid_id")),
        "grid": "id",
        "household": lambda ids: Q(
            id__in=Household.objects.filter(id__in=ids).values("unit__building__grid_id")
        ),
    },
    Community: {
        "street": "street_id",
        "community": "id",
        "estate": lambda ids: Q(id__in=Estate.objects.filter(id__in=ids).values("community_id")),
        "grid": lambda ids: Q(id__in=Grid.objects.filter(id__in=ids).values("community_id")),
        "household": lambda ids: Q(
            id__in=Household.objects.filter(id__in=ids).values(
                "unit__building__estate__community_id"
            )
        ),
    },
    Street: {
        "street": "id",
        "community": lambda ids: Q(id__in=Community.objects.filter(id__in=ids).values("street_id")),
    },
}


def scope_q(model: type[Model], scope: Scope) -> Q | None:
    """The filter that keeps only rows of `model` inside `scope`; None means no rows."""
    paths = _PATHS[model]
    q = Q()
    matched = False
    for level, ids in (
        ("street", scope.street_ids),
        ("community", scope.community_ids),
        ("estate", scope.estate_ids),
        ("grid", scope.grid_ids),
        ("household", scope.household_ids),
    ):
        if not ids or level not in paths:
            continue
        path = paths[level]
        q |= path(ids) if callable(path) else Q(**{f"{path}__in": sorted(ids)})
        matched = True
    return q if matched else None


def scope_filter(queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    """`queryset` narrowed to what `user` may see (DESIGN §3)."""
    scope = scope_for(user)
    if scope.everything:
        return queryset
    q = scope_q(queryset.model, scope)
    if q is None:
        return queryset.none()
    return queryset.filter(q)


def can_view_registry(user: Any) -> bool:
    scope = scope_for(user)
    return scope.everything or bool(scope.roles & REGISTRY_VIEW_ROLES)


def can_edit_registry(user: Any) -> bool:
    scope = scope_for(user)
    return scope.everything or bool(scope.roles & REGISTRY_EDIT_ROLES)
