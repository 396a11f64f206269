"""Reads of the Open311 endpoints: the service list and the public grievances.

Open311 readers are anonymous: nobody is "in scope", so these selectors take no user and
answer only what anyone may see. Everything else is absent, exactly like an unknown id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from community.models import Community
from grievances.models import Category, Grievance, SlaClock, TimelineEvent

#: At most this many requests in one answer (the spec's default limit).
MAX_REQUESTS = 1000

# Timeline lines that explain a status to the public. Not the reporter's rating comment,
# not a check-in (a position at someone's door), not the system's clock lines.
_STATUS_NOTE_KINDS = (
    TimelineEvent.Kind.STATUS,
    TimelineEvent.Kind.PROGRESS,
    TimelineEvent.Kind.PLAN,
    TimelineEvent.Kind.RESOLVED,
    TimelineEvent.Kind.REOPENED,
    TimelineEvent.Kind.MERGED,
)


def open311_jurisdiction(code: str) -> Community | None:
    """The community whose code is the jurisdiction_id, or None."""
    return Community.objects.filter(code=code).first()


def open311_services() -> QuerySet[Category]:
    """The services: active leaf categories under an active parent, in display order."""
    active_children = Category.objects.filter(parent=OuterRef("pk"), is_active=True)
    return (
        Category.objects.filter(is_active=True)
        .filter(Q(parent__isnull=True) | Q(parent__is_active=True))
        .exclude(Exists(active_children))
        .select_related("parent")
        .order_by(
            Coalesce("parent__sort_order", "sort_order"),
            Coalesce("parent_id", "id"),
            "sort_order",
            "id",
        )
    )


def open311_service(code: str) -> Category | None:
    """One service by its code, or None when it is not a service (any more)."""
    return open311_services().filter(code=code).first()


def open311_public_q() -> Q:
    """What anyone may read: public, not in a private category, not an anonymous slip."""
    return Q(is_public=True, category__is_private=False) & ~Q(
        is_anonymous=True, channel=Grievance.Channel.SUGGESTION_BOX
    )


def open311_requests(
    *,
    jurisdiction: Community | None = None,
    ids: Collection[int] | None = None,
    service_codes: Collection[str] = (),
    statuses: Collection[str] = (),
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> QuerySet[Grievance]:
    """Public grievances, newest first, with what a request document shows.

    `ids` overrides the other filters (as the spec says); the jurisdiction and publicness
    always hold. Annotated with `status_note` (the latest public explanation) and with the
    live clocks prefetched as `live_clocks`, so a page of any length costs two queries.
    """
    latest_note = (
        TimelineEvent.objects.filter(
            grievance=OuterRef("pk"), is_public=True, kind__in=_STATUS_NOTE_KINDS
        )
        .exclude(note="")
        .order_by("-at", "-id")
        .values("note")[:1]
    )
    qs = Grievance.objects.filter(open311_public_q())
    if jurisdiction is not None:
        qs = qs.filter(community=jurisdiction)
    if ids is not None:
        qs = qs.filter(pk__in=sorted(ids))
    else:
        if service_codes:
            qs = qs.filter(category__code__in=sorted(service_codes))
        if statuses:
            qs = qs.filter(status__in=sorted(statuses))
        if start is not None:
            qs = qs.filter(submitted_at__gte=start)
        if end is not None:
            qs = qs.filter(submitted_at__lte=end)
    live = SlaClock.objects.filter(
        state__in=(SlaClock.State.RUNNING, SlaClock.State.PAUSED)
    ).order_by("due_at", "pk")
    return (
        qs.select_related(
            "category",
            "handler_organization",
            "community",
            "estate",
            "building__estate",
            "merged_into__category",
        )
        .annotate(status_note=Subquery(latest_note))
        .prefetch_related(Prefetch("clocks", queryset=live, to_attr="live_clocks"))
        .order_by("-submitted_at", "-id")
    )
