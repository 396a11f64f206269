"""Reads of grievances for pages, APIs and Open311; each takes the acting user.

Everything starts from `grievances_visible` (selectors.access): a grievance outside the
user's scope is simply not there, so a detail read raises DoesNotExist (views answer 404).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery

from community.models import Building, Organization
from grievances import workflow
from grievances.models import (
    Attachment,
    Category,
    Dispatch,
    Grievance,
    SlaClock,
    TimelineEvent,
)
from grievances.selectors.access import (
    can_see_internal,
    dispatch_receiver_q,
    grievance_scope,
    grievances_visible,
)

Status = Grievance.Status
MAX_PK = 2**63 - 1  # the largest value a (big)int primary key column holds
#: What the receiver's phone queue shows: work accepted or waiting for their answer.
QUEUE_STATUSES = (Status.DISPATCHED, Status.ON_SITE, Status.WAITING)


def grievance_default_receiver(*, grievance: Grievance) -> Organization | None:
    """Who the category says should handle it: the estate's property company, the
    community office, or a named organization. The dispatch form preselects it."""
    category = grievance.category
    handler = category.default_handler
    if handler == Category.Handler.ORGANIZATION and category.default_organization_id:
        return category.default_organization
    if handler == Category.Handler.PROPERTY_COMPANY and grievance.estate_id is not None:
        company = grievance.estate.property_company if grievance.estate else None
        if company is not None:
            return company
        # A 三无小区 (no property company): the office handles it.
    return (
        Organization.objects.filter(
            kind=Organization.Kind.COMMUNITY_OFFICE, community_id=grievance.community_id
        )
        .order_by("pk")
        .first()
    )


def _next_due() -> Subquery:
    """The due time of the grievance's earliest running clock (the board's "time left")."""
    return Subquery(
        SlaClock.objects.filter(grievance=OuterRef("pk"), state=SlaClock.State.RUNNING)
        .order_by("due_at")
        .values("due_at")[:1]
    )


def _with_board_columns(qs: QuerySet[Grievance]) -> QuerySet[Grievance]:
    return qs.select_related(
        "community",
        "category__parent",
        "estate",
        "building",
        "handler_organization",
        "handler_user",
    ).annotate(next_due=_next_due())


def grievance_list(
    *,
    user: Any,
    status: str | Iterable[str] | None = None,
    community: Any = None,
    estate: Any = None,
    building: Any = None,
    category: Category | None = None,
    handler_organization: Organization | None = None,
    channel: str | None = None,
    search: str = "",
    unassigned: bool = False,
    overdue_at: dt.datetime | None = None,
    due_before: dt.datetime | None = None,
    order: str = "newest",
) -> QuerySet[Grievance]:
    """Grievances in scope for a list or the dispatch board, filtered, with `next_due`.

    `unassigned`: on the office's desk (accepted or reopened, no live dispatch);
    `overdue_at=now`: a running clock is past due; `due_before=t`: one is due by t.
    `order`: "newest" (default), "oldest" or "due" (earliest running clock first).
    """
    qs = _with_board_columns(grievances_visible(user=user))
    if status:
        qs = qs.filter(status__in=[status] if isinstance(status, str) else list(status))
    if community is not None:
        qs = qs.filter(community=community)
    if estate is not None:
        qs = qs.filter(estate=estate)
    if building is not None:
        qs = qs.filter(building=building)
    if category is not None:
        qs = qs.filter(Q(category=category) | Q(category__parent=category))
    if handler_organization is not None:
        qs = qs.filter(handler_organization=handler_organization)
    if channel:
        qs = qs.filter(channel=channel)
    if search := (search or "").strip():
        number = search.lstrip("#")
        by_number = Q(pk=int(number)) if number.isdigit() and int(number) <= MAX_PK else Q()
        qs = qs.filter(Q(title__icontains=search) | by_number)
    if unassigned:
        qs = qs.filter(status__in=[Status.ACCEPTED, Status.REOPENED])
    if overdue_at is not None:
        qs = qs.filter(**{"next_due__lt": overdue_at})
    if due_before is not None:
        qs = qs.filter(**{"next_due__lte": due_before})
    if order == "due":
        return qs.order_by(F("next_due").asc(nulls_last=True), "submitted_at", "id")
    if order == "oldest":
        return qs.order_by("submitted_at", "id")
    return qs.order_by("-submitted_at", "-id")


def grievance_detail(*, user: Any, pk: int) -> Grievance:
    """One grievance in scope, with what its page shows; DoesNotExist otherwise (404)."""
    if not isinstance(pk, int) or not 0 < pk <= MAX_PK:
        raise Grievance.DoesNotExist
    return (
        grievances_visible(user=user)
        .select_related(
            "community",
            "category__parent",
            "estate__property_company",
            "building",
            "unit",
            "household",
            "reporter",
            "submitted_by",
            "handler_organization",
            "handler_user",
            "steward",
            "merged_into",
        )
        .get(pk=pk)
    )


def grievance_may_see(*, user: Any, grievance: Grievance) -> bool:
    """Whether the grievance is in the user's scope (one indexed query at most)."""
    scope = grievance_scope(user)
    if scope.everything or grievance.community_id in scope.community_ids:
        return True
    return grievances_visible(user=user).filter(pk=grievance.pk).exists()


def grievance_timeline(*, user: Any, grievance: Grievance) -> QuerySet[TimelineEvent]:
    """The grievance's story, oldest first, with photos; internal notes only for those
    who work on it (never for residents). Empty for a grievance outside the scope."""
    events = TimelineEvent.objects.filter(grievance=grievance)
    if not can_see_internal(user, grievance):
        if not grievance_may_see(user=user, grievance=grievance):
            return TimelineEvent.objects.none()
        events = events.filter(is_public=True)
    return (
        events.select_related("actor", "on_behalf_of")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("at", "id")
    )


def grievance_photos(*, user: Any, grievance: Grievance) -> QuerySet[Attachment]:
    """The grievance's photos the user may see (those of internal notes only for staff)."""
    photos = Attachment.objects.filter(grievance=grievance)
    if not can_see_internal(user, grievance):
        if not grievance_may_see(user=user, grievance=grievance):
            return Attachment.objects.none()
        photos = photos.filter(Q(event__isnull=True) | Q(event__is_public=True))
    return photos.order_by("id")


def attachment_for(*, user: Any, pk: int) -> Attachment:
    """A photo the user may see (its grievance in scope, not of an internal note);
    Attachment.DoesNotExist otherwise, so the serving view answers 404."""
    if not isinstance(pk, int) or not 0 < pk <= MAX_PK:
        raise Attachment.DoesNotExist
    attachment = Attachment.objects.select_related("grievance", "event").get(pk=pk)
    grievance = attachment.grievance
    if can_see_internal(user, grievance):
        return attachment
    if attachment.event is not None and not attachment.event.is_public:
        raise Attachment.DoesNotExist
    if not grievance_may_see(user=user, grievance=grievance):
        raise Attachment.DoesNotExist
    return attachment


def grievance_possible_duplicates(
    *, user: Any, category: Category, building: Building, now: dt.datetime, days: int = 7
) -> QuerySet[Grievance]:
    """Open grievances in scope of the same category at the same building in the last
    `days` days: shown before a new one is filed, and to the office for merging."""
    since = now - dt.timedelta(days=days)
    return (
        grievances_visible(user=user)
        .filter(
            category=category,
            building=building,
            submitted_at__gte=since,
            status__in=sorted(workflow.OPEN_STATUSES),
        )
        .select_related("category")
        .order_by("-submitted_at", "-id")
    )


def grievance_queue_for_receiver(*, user: Any) -> QuerySet[Grievance]:
    """A receiver's phone queue: work dispatched to them or their organization, waiting
    for their answer or in their hands, the earliest running clock first."""
    scope = grievance_scope(user)
    if scope.user_id is None:
        return Grievance.objects.none()
    live = Dispatch.objects.filter(
        dispatch_receiver_q(scope),
        status__in=[Dispatch.Status.PENDING, Dispatch.Status.ACCEPTED],
    )
    live_of = live.filter(grievance=OuterRef("pk"))
    return (
        _with_board_columns(
            Grievance.objects.filter(id__in=live.values("grievance_id"), status__in=QUEUE_STATUSES)
        )
        .annotate(
            dispatch_id=Subquery(live_of.values("id")[:1]),
            dispatch_status=Subquery(live_of.values("status")[:1]),
        )
        .order_by(F("next_due").asc(nulls_last=True), "submitted_at", "id")
    )
