"""Reads behind the intake pages (受理登记) and the resident's own list (我的诉求).

Who may file how is decided by the intake service (`services.intake`); these reads only
offer what the form shows: the roles a person files in, the categories, the buildings,
units and residents within reach of that role, and the person's own grievances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from community.models import Building, Community, Resident, Unit
from community.selectors import resident_list
from grievances.models import Category, Grievance, SlaClockSpec, Trigger
from grievances.selectors.access import grievance_scope

#: The top-level category of the suggestion box (意见箱); its subcategories too.
SUGGESTION_CATEGORY_CODE = "suggestion"
#: How many residents the on-behalf-of picker lists at most.
RESIDENT_MATCHES = 10

RESIDENT, WORKER, HOTLINE = "resident", "worker", "hotline"


@dataclass(frozen=True)
class IntakeRoles:
    """The ways a user files: as a resident (their active record), a grid worker of
    some grids, or the office (hotline) of some communities."""

    resident: Resident | None
    grid_ids: frozenset[int]
    office_community_ids: frozenset[int]

    @property
    def modes(self) -> list[str]:
        """The filing modes, the work ones first (a worker on patrol is filing for work)."""
        modes = []
        if self.grid_ids:
            modes.append(WORKER)
        if self.office_community_ids:
            modes.append(HOTLINE)
        if self.resident is not None:
            modes.append(RESIDENT)
        return modes

    @property
    def home_community_id(self) -> int | None:
        if self.resident is None:
            return None
        return int(self.resident.household.unit.building.estate.community_id)


def intake_roles(*, user: Any) -> IntakeRoles:
    """How `user` may file: their resident record (address loaded), grids, office communities."""
    scope = grievance_scope(user)
    resident = None
    if scope.household_ids:
        resident = (
            Resident.objects.filter(user=user, status=Resident.Status.ACTIVE)
            .select_related("household__unit__building__estate__community")
            .defer("id_number_ciphertext")
            .first()
        )
    return IntakeRoles(
        resident=resident,
        grid_ids=scope.grid_ids,
        office_community_ids=scope.community_ids,
    )


def _is_suggestion(category: Category) -> bool:
    parent = category.parent
    return category.code == SUGGESTION_CATEGORY_CODE or (
        parent is not None and parent.code == SUGGESTION_CATEGORY_CODE
    )


def intake_categories(*, suggestion: bool = False) -> list[tuple[Category, list[Category]]]:
    """Active categories as (top, [active children]) in display order; a top without
    children is filed under itself. `suggestion`: only the suggestion box's, else all
    the others."""
    rows = list(
        Category.objects.filter(is_active=True)
        .select_related("parent")
        .order_by("sort_order", "id")
    )
    children: dict[int, list[Category]] = {}
    for row in rows:
        if row.parent_id is not None and row.parent is not None and row.parent.is_active:
            children.setdefault(row.parent_id, []).append(row)
    return [
        (top, children.get(top.pk, []))
        for top in rows
        if top.parent_id is None and _is_suggestion(top) == suggestion
    ]


def filing_categories() -> QuerySet[Category]:
    """Categories as filing reads them: the parent joined (its policy), whether it has
    subcategories in use and whether its policy starts a clock on submission, so that
    filing asks nothing more of the category."""
    policy = Coalesce(OuterRef("sla_policy_id"), OuterRef("parent__sla_policy_id"))
    return Category.objects.select_related("parent").annotate(
        has_active_children=Exists(Category.objects.filter(parent=OuterRef("pk"), is_active=True)),
        clocks_start_on_submitted=Exists(
            SlaClockSpec.objects.filter(policy_id=policy, start_on=Trigger.SUBMITTED)
        ),
    )


def intake_category_get(*, pk: Any, suggestion: bool = False) -> Category:
    """An active category one may file under (a leaf); DoesNotExist otherwise."""
    for top, children in intake_categories(suggestion=suggestion):
        for leaf in children or [top]:
            if str(leaf.pk) == str(pk):
                return leaf
    raise Category.DoesNotExist


def intake_communities(*, roles: IntakeRoles) -> QuerySet[Community]:
    """The communities the office (hotline) files for."""
    return Community.objects.filter(id__in=sorted(roles.office_community_ids)).order_by("id")


def intake_buildings(
    *, roles: IntakeRoles, mode: str, community_id: int | None
) -> QuerySet[Building]:
    """Buildings the form offers: a resident's community, a worker's grids, the office's
    community; ordered by estate and number."""
    qs = Building.objects.select_related("estate")
    if mode == RESIDENT and roles.home_community_id is not None:
        qs = qs.filter(estate__community_id=roles.home_community_id)
    elif mode == WORKER and roles.grid_ids:
        qs = qs.filter(grid_id__in=sorted(roles.grid_ids))
    elif mode == HOTLINE and community_id in roles.office_community_ids:
        qs = qs.filter(estate__community_id=community_id)
    else:
        return Building.objects.none()
    return qs.order_by("estate__name", "estate_id", "number", "id")


def intake_units(*, buildings: QuerySet[Building], building_id: Any) -> QuerySet[Unit]:
    """The units of one building among `buildings` (nothing for a building out of reach)."""
    if not str(building_id or "").isdigit():
        return Unit.objects.none()
    return Unit.objects.filter(
        building_id=int(building_id), building__in=buildings.values("id")
    ).order_by("number", "id")


def intake_residents(
    *,
    user: Any,
    search: str,
    building_id: Any = None,
    community_id: int | None = None,
    grid_ids: frozenset[int] | None = None,
) -> QuerySet[Resident]:
    """Living residents the user may see, matching a name, a whole phone number or its
    last 4 digits, in a building and the grids (worker) or a community (hotline)."""
    search = (search or "").strip()[:50]
    if not search:
        return Resident.objects.none()
    building = int(building_id) if str(building_id or "").isdigit() else None
    qs = resident_list(
        user=user, search=search, building_id=building, status=Resident.Status.ACTIVE
    )
    if community_id is not None:
        qs = qs.filter(household__unit__building__estate__community_id=community_id)
    if grid_ids is not None:
        qs = qs.filter(household__unit__building__grid_id__in=sorted(grid_ids))
    return qs


def intake_resident_get(
    *,
    user: Any,
    pk: Any,
    community_id: int | None = None,
    grid_ids: frozenset[int] | None = None,
) -> Resident:
    """One living resident the user may see, in the community or the grids if given;
    DoesNotExist otherwise."""
    if not str(pk or "").isdigit():
        raise Resident.DoesNotExist
    qs = resident_list(user=user, status=Resident.Status.ACTIVE)
    if community_id is not None:
        qs = qs.filter(household__unit__building__estate__community_id=community_id)
    if grid_ids is not None:
        qs = qs.filter(household__unit__building__grid_id__in=sorted(grid_ids))
    return qs.get(pk=int(pk))


def _list_columns(qs: QuerySet[Grievance]) -> QuerySet[Grievance]:
    return qs.select_related("category__parent", "building__estate").order_by(
        "-submitted_at", "-id"
    )


def grievances_of_my_household(*, user: Any) -> QuerySet[Grievance]:
    """What the user or their household reported, or what was filed for their home,
    newest first; `awaiting_rating` marks the resolved ones they are asked to confirm."""
    scope = grievance_scope(user)
    if scope.user_id is None or not scope.household_ids:
        return Grievance.objects.none()
    households = sorted(scope.household_ids)
    # Exactly who may confirm a resolution (services.closing): the reporter, or their
    # household / the household it was filed for. Anonymous slips name nobody.
    mine = (
        Q(reporter__user_id=scope.user_id)
        | Q(household_id__in=households)
        | Q(reporter__household_id__in=households)
    )
    return _list_columns(
        Grievance.objects.filter(mine, is_anonymous=False).annotate(
            awaiting_rating=Case(
                When(status=Grievance.Status.RESOLVED, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


def grievances_filed_by_me(*, user: Any) -> QuerySet[Grievance]:
    """What the user typed in for others or found on patrol (grid worker, hotline),
    newest first."""
    scope = grievance_scope(user)
    if scope.user_id is None:
        return Grievance.objects.none()
    return _list_columns(
        Grievance.objects.filter(submitted_by_id=scope.user_id).annotate(
            awaiting_rating=Value(False, output_field=BooleanField())
        )
    )
