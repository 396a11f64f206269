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

Changing is narrower than seeing (`scope_filter(..., edit=True)`, `can_edit_object`):
only the communities where the user is community staff or admin (superusers: all).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, Q, QuerySet

from community.models import (
    Building,
    Community,
    Estate,
    Grid,
    Household,
    Membership,
    Resident,
    ServiceContact,
    Street,
    Unit,
)

Role = Membership.Role
_RESIDENT = "_resident"  # marks the household rows in scope_for's union
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
        households: set[int] = set()
        roles: set[str] = set()
        property_orgs: set[int] = set()
        for role, street_id, community_id, grid_id, org_id, household_id in _scope_rows(user.pk):
            if role == _RESIDENT:
                households.add(household_id)
                continue
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


def _scope_rows(user_id: int) -> list[tuple[Any, ...]]:
    """The user's active roles and the households they live in, in one round trip.

    Raw SQL on purpose: this runs on every scoped request, and composing the same UNION
    with the ORM cost more than the query itself (make bench).
    """
    membership, resident = Membership._meta.db_table, Resident._meta.db_table
    sql = (
        f"SELECT role, street_id, community_id, grid_id, organization_id, NULL"  # noqa: S608
        f" FROM {membership} WHERE user_id = %s AND is_active"
        f" UNION ALL SELECT %s, NULL, NULL, NULL, NULL, household_id"
        f" FROM {resident} WHERE user_id = %s AND status = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, _RESIDENT, user_id, Resident.Status.ACTIVE.value])
        return cursor.fetchall()


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
    # For changes only (`edit=True`): a contact is its community office's; a street-wide
    # one (no community) only a superuser's. Reading the directory is
    # selectors.service_contact_list, which adds the street-wide ones.
    ServiceContact: {"community": "community_id"},
}


def _levels(scope: Scope) -> tuple[tuple[str, frozenset[int]], ...]:
    return (
        ("street", scope.street_ids),
        ("community", scope.community_ids),
        ("estate", scope.estate_ids),
        ("grid", scope.grid_ids),
        ("household", scope.household_ids),
    )


def scope_row_fields(model: type[Model], user: Any) -> list[str]:
    """The lookups a `.values()` row needs so that `scope_contains_row` can judge it."""
    scope = scope_for(user)
    paths = _PATHS[model]
    return [
        path
        for level, ids in _levels(scope)
        if ids and level in paths and isinstance(path := paths[level], str)
    ]


def scope_contains_row(user: Any, model: type[Model], row: Mapping[str, Any]) -> bool:
    """Whether one `.values()` row of `model` is in the user's scope (as `scope_filter`).

    A detail lookup reads its row by primary key with `scope_row_fields` among its
    columns and is judged here, instead of composing the scope's joins into its SQL:
    that cost more than the lookup itself (make bench). A level without a forward path
    asks the database.
    """
    scope = scope_for(user)
    if scope.everything:
        return True
    paths = _PATHS[model]
    for level, ids in _levels(scope):
        if not ids or level not in paths:
            continue
        path = paths[level]
        if callable(path):
            if model._default_manager.filter(path(ids), pk=row["id"]).exists():
                return True
        elif row[path] in ids:
            return True
    return False


def scope_q(model: type[Model], scope: Scope) -> Q | None:
    """The filter that keeps only rows of `model` inside `scope`; None means no rows."""
    paths = _PATHS[model]
    q = Q()
    matched = False
    for level, ids in _levels(scope):
        if not ids or level not in paths:
            continue
        path = paths[level]
        q |= path(ids) if callable(path) else Q(**{f"{path}__in": sorted(ids)})
        matched = True
    return q if matched else None


def edit_scope_for(user: Any) -> Scope:
    """The areas `user` may change: the communities where they hold an edit role.

    Narrower than `scope_for`: a staff member of one community who lives in another sees
    their own household there but may not change it; what a grid worker, property staff
    or street supervisor sees is never theirs to change.
    """
    scope = scope_for(user)
    if scope.everything:
        return scope
    if not scope.roles & REGISTRY_EDIT_ROLES:
        return Scope()
    # scope_for fills community_ids from REGISTRY_EDIT_ROLES memberships only.
    return Scope(community_ids=scope.community_ids, roles=scope.roles & REGISTRY_EDIT_ROLES)


def scope_filter(queryset: QuerySet[M], user: Any, *, edit: bool = False) -> QuerySet[M]:
    """`queryset` narrowed to what `user` may see (DESIGN §3), or change with `edit=True`."""
    scope = edit_scope_for(user) if edit else scope_for(user)
    if scope.everything:
        return queryset
    q = scope_q(queryset.model, scope)
    if q is None:
        return queryset.none()
    return queryset.filter(q)


def is_community_office(user: Any, community_id: int) -> bool:
    """Whether the user is staff or admin of the community's office (superusers: all)."""
    scope = edit_scope_for(user)
    return scope.everything or community_id in scope.community_ids


def can_view_registry(user: Any) -> bool:
    scope = scope_for(user)
    return scope.everything or bool(scope.roles & REGISTRY_VIEW_ROLES)


def can_edit_registry(user: Any) -> bool:
    """Whether `user` may change some part of the registry (which part: `can_edit_object`)."""
    scope = scope_for(user)
    return scope.everything or bool(scope.roles & REGISTRY_EDIT_ROLES)


def can_edit_object(user: Any, obj: Model) -> bool:
    """Whether `user` may change this registry row: it lies in their edit scope."""
    scope = edit_scope_for(user)
    if scope.everything:
        return True
    if scope.is_empty or obj.pk is None or type(obj) not in _PATHS:
        return False
    return scope_filter(type(obj)._default_manager.filter(pk=obj.pk), user, edit=True).exists()
