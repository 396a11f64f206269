"""Reads of the office's dispatch board (派单台), its 台账 export and the grievances API.

The board is for those who oversee communities: community staff and admins (their
communities), street supervisors (their street's, read-only) and superusers. Its lists
start from `grievance_list` (so the user's scope holds) and are narrowed to the
communities the user oversees: a member of staff who also lives somewhere else does not
see their own household's grievance from another community on the office's board.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from community.models import Community, Estate, Organization
from grievances.models import Category, Grievance, SlaClock
from grievances.selectors.access import grievance_scope
from grievances.selectors.grievances import grievance_list

Status = Grievance.Status
#: The board's lists, in the order the page shows them.
BOARD_LISTS = ("new", "unassigned", "overdue", "due_soon")
#: "Due soon": a running clock due within this time.
DUE_SOON = dt.timedelta(hours=2)
#: Organizations that take work orders (the dispatch service refuses merchants).
RECEIVER_KINDS = (
    Organization.Kind.PROPERTY_COMPANY,
    Organization.Kind.PARTNER_UNIT,
    Organization.Kind.COMMUNITY_OFFICE,
    Organization.Kind.SOCIAL_ORGANIZATION,
    Organization.Kind.STREET_OFFICE,
)


def board_may_view(*, user: Any) -> bool:
    """Whether the user oversees any community (office, street supervisor, superuser)."""
    scope = grievance_scope(user)
    return scope.everything or bool(scope.community_ids or scope.street_ids)


def board_may_act(*, user: Any) -> bool:
    """Whether the user works in an office (or is a superuser): street supervisors read."""
    scope = grievance_scope(user)
    return scope.everything or bool(scope.community_ids)


def _overseen_q(user: Any, prefix: str = "") -> Q | None:
    """The condition "in a community the user oversees"; None for superusers (no limit)."""
    scope = grievance_scope(user)
    if scope.everything:
        return None
    return Q(**{f"{prefix}id__in": sorted(scope.community_ids)}) | Q(
        **{f"{prefix}street_id__in": sorted(scope.street_ids)}
    )


def board_communities(*, user: Any) -> QuerySet[Community]:
    """The communities whose grievances the user oversees, by name."""
    if not board_may_view(user=user):
        return Community.objects.none()
    condition = _overseen_q(user)
    qs = Community.objects.all() if condition is None else Community.objects.filter(condition)
    return qs.order_by("name", "pk")


def _in_overseen(qs: QuerySet[Grievance], user: Any) -> QuerySet[Grievance]:
    condition = _overseen_q(user, prefix="community__")
    return qs if condition is None else qs.filter(condition)


def _next_kind() -> Subquery:
    """The kind of the grievance's earliest running clock (goes with `next_due`)."""
    return Subquery(
        SlaClock.objects.filter(grievance=OuterRef("pk"), state=SlaClock.State.RUNNING)
        .order_by("due_at", "pk")
        .values("kind")[:1]
    )


def board_list(
    *,
    user: Any,
    which: str,
    now: dt.datetime,
    community: Community | None = None,
    estate: Estate | None = None,
    category: Category | None = None,
    handler_organization: Organization | None = None,
) -> QuerySet[Grievance]:
    """One list of the board, filtered, with `next_due` and `next_kind` of its clocks.

    `which`: "new" (submitted, oldest first), "unassigned" (accepted or reopened with no
    live dispatch, oldest first), "overdue" (a running clock past due), "due_soon" (one
    due within DUE_SOON, not yet overdue), both earliest due first; "all": every
    grievance matching the filters, newest first (the 台账 export).
    """
    if not board_may_view(user=user):
        return Grievance.objects.none()
    filters: dict[str, Any] = {
        "user": user,
        "community": community,
        "estate": estate,
        "category": category,
        "handler_organization": handler_organization,
    }
    if which == "new":
        qs = grievance_list(status=Status.SUBMITTED, order="oldest", **filters)
    elif which == "unassigned":
        qs = grievance_list(unassigned=True, order="oldest", **filters)
    elif which == "overdue":
        qs = grievance_list(overdue_at=now, order="due", **filters)
    elif which == "due_soon":
        # `next_due` is the selector's annotation (django-stubs does not know it).
        qs = grievance_list(due_before=now + DUE_SOON, order="due", **filters).filter(
            **{"next_due__gte": now}
        )
    elif which == "all":
        qs = grievance_list(order="newest", **filters)
    else:
        raise ValueError(which)
    return _in_overseen(qs, user).annotate(next_kind=_next_kind())


def board_export_list(
    *,
    user: Any,
    which: str,
    now: dt.datetime,
    community: Community | None = None,
    estate: Estate | None = None,
    category: Category | None = None,
    handler_organization: Organization | None = None,
) -> QuerySet[Grievance]:
    """A board list with what the 台账 export writes (the reporter, for the masked phone)."""
    return board_list(
        user=user,
        which=which,
        now=now,
        community=community,
        estate=estate,
        category=category,
        handler_organization=handler_organization,
    ).select_related("reporter")


def board_estates(*, user: Any) -> QuerySet[Estate]:
    """The estates of the communities the user oversees (the board's estate filter)."""
    condition = _overseen_q(user, prefix="community__")
    if not board_may_view(user=user):
        return Estate.objects.none()
    qs = Estate.objects.all() if condition is None else Estate.objects.filter(condition)
    return qs.select_related("community").order_by("community__name", "name", "pk")


def board_categories() -> QuerySet[Category]:
    """Active categories, each top level followed by its subcategories."""
    return (
        Category.objects.filter(is_active=True)
        .select_related("parent")
        .order_by(
            Coalesce("parent__sort_order", "sort_order"),
            Coalesce("parent_id", "id"),
            "parent_id",
            "sort_order",
            "id",
        )
    )


def board_receivers(*, user: Any) -> QuerySet[Organization]:
    """Organizations that take work orders in the communities the user oversees: those of
    the communities, of their street, serving one of their estates, or of no area at all."""
    if not board_may_view(user=user):
        return Organization.objects.none()
    qs = Organization.objects.filter(kind__in=RECEIVER_KINDS)
    if not grievance_scope(user).everything:
        communities = board_communities(user=user)
        qs = qs.filter(
            Q(community__in=communities)
            | Q(street__in=communities.values("street_id"))
            | Q(estates_served__community__in=communities)
            | Q(community__isnull=True, street__isnull=True)
        )
    # A subquery rather than distinct(): an organization serving two estates is one row.
    return Organization.objects.filter(pk__in=qs.values("pk")).order_by("kind", "name", "pk")
