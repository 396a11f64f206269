"""Grievance KPIs for a period (诉求办理考核指标), per community, handler and category.

Every figure is over one cohort: the grievances **filed in the period** (submitted_at in
[start, end), in the communities the user oversees), leaving out those merged into
another one (a duplicate counts once, in the grievance it was merged into). A grievance
filed on 31 March counts in March even when it is resolved in April, so a period's
figures still move while its work finishes; "now" decides which clocks have a verdict.

- **Response rate (响应率)**: share of the cohort the office answered (accepted,
  dispatched or rejected: the first move out of "submitted") within RESPONSE_MINUTES
  of filing (settings.LINLI_GRIEVANCE_RESPONSE_MINUTES, 60 by default).
- **On-time rate (按时办结率)**: share of the cohort's SLA clocks with a verdict that were
  met by their due time. A verdict: the clock stopped (met, on time or late), or it is
  still live and already past due (late). Clocks not yet due, and cancelled ones
  (rejected grievances), have none and are left out.
- **Resolution rate (办结率)**: share of the cohort now resolved or closed.
- **Satisfaction rate (满意率)**: share of the reporters' ratings saying "solved"; the
  ratings of closures nobody answered (automatic) are left out. Average stars over the
  same ratings. Every rating of a grievance counts (one per round after a reopening).
- **Reopen rate (重办率)**: share of the cohort's grievances resolved at least once that
  were reopened ("not solved") at least once.
- **Complaint rate per 1,000 residents (千人诉求率)**: cohort size ÷ active residents in
  the registry × 1,000; per community its own residents, per category all residents in
  the report; none per handler (a handler serves no population of its own).
- **Rectification rate of suggestions (意见箱整改率)**: share of the cohort's suggestion
  box (意见箱) grievances now resolved or closed.

Each breakdown costs three grouped aggregate queries (grievances, clocks, ratings), plus
one for the residents and one for the row labels; nothing loops over grievances.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.utils.translation import gettext as _

from community.models import Community, Organization, Resident
from grievances.models import Category, Grievance, Rating, SlaClock, TimelineEvent
from grievances.selectors.e_board import board_communities

Status = Grievance.Status
State = SlaClock.State
RESPONSE_MINUTES = 60
DONE = (Status.RESOLVED, Status.CLOSED)


def response_minutes() -> int:
    return int(getattr(settings, "LINLI_GRIEVANCE_RESPONSE_MINUTES", RESPONSE_MINUTES))


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class KpiRow:
    """The counts behind one row of a report; the rates are fractions (None: no data)."""

    key: int | None
    label: str
    filed: int = 0
    responded: int = 0
    resolved: int = 0
    reopened: int = 0
    resolved_once: int = 0
    suggestions: int = 0
    suggestions_rectified: int = 0
    clocks_judged: int = 0
    clocks_on_time: int = 0
    ratings: int = 0
    ratings_solved: int = 0
    stars_total: int = 0
    stars_count: int = 0
    residents: int | None = None

    @property
    def response_rate(self) -> float | None:
        return _ratio(self.responded, self.filed)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.clocks_on_time, self.clocks_judged)

    @property
    def resolution_rate(self) -> float | None:
        return _ratio(self.resolved, self.filed)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.ratings_solved, self.ratings)

    @property
    def average_stars(self) -> float | None:
        return _ratio(self.stars_total, self.stars_count)

    @property
    def reopen_rate(self) -> float | None:
        return _ratio(self.reopened, self.resolved_once)

    @property
    def per_thousand_residents(self) -> float | None:
        if not self.residents:
            return None
        return self.filed * 1000 / self.residents

    @property
    def rectification_rate(self) -> float | None:
        return _ratio(self.suggestions_rectified, self.suggestions)


#: The counting fields of KpiRow (what a total adds up).
COUNTS = (
    "filed",
    "responded",
    "resolved",
    "reopened",
    "resolved_once",
    "suggestions",
    "suggestions_rectified",
    "clocks_judged",
    "clocks_on_time",
    "ratings",
    "ratings_solved",
    "stars_total",
    "stars_count",
)


@dataclass(frozen=True)
class KpiReport:
    """A period's KPIs: the total and the rows of each breakdown."""

    start: dt.date
    end: dt.date  # inclusive
    communities: list[Community]
    total: KpiRow
    by_community: list[KpiRow] = field(default_factory=list)
    by_handler: list[KpiRow] = field(default_factory=list)
    by_category: list[KpiRow] = field(default_factory=list)


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, day after end 00:00) on the community's wall clock (Asia/Shanghai)."""
    from django.utils import timezone

    tz = timezone.get_default_timezone()
    low = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return low, high


def _cohort_q(prefix: str, community_ids: list[int], low: dt.datetime, high: dt.datetime) -> Q:
    return Q(
        **{
            f"{prefix}community_id__in": community_ids,
            f"{prefix}submitted_at__gte": low,
            f"{prefix}submitted_at__lt": high,
        }
    ) & ~Q(**{f"{prefix}status": Status.MERGED})


def _answered_in_time() -> Exists:
    """The grievance left "submitted" (accepted, dispatched, rejected) within the window."""
    deadline = ExpressionWrapper(
        OuterRef("submitted_at") + Value(dt.timedelta(minutes=response_minutes())),
        output_field=DateTimeField(),
    )
    return Exists(
        TimelineEvent.objects.filter(
            grievance=OuterRef("pk"), old_value=Status.SUBMITTED, at__lte=deadline
        )
    )


def _grouped(qs: QuerySet[Any], column: str, **aggregates: Any) -> dict[Any, dict[str, Any]]:
    rows = qs.values(column).annotate(**aggregates).order_by()
    return {row[column]: row for row in rows}


def _breakdown(
    column: str,
    community_ids: list[int],
    low: dt.datetime,
    high: dt.datetime,
    now: dt.datetime,
) -> dict[Any, dict[str, int]]:
    """The counts of every group of the cohort by `column` (three aggregate queries)."""
    grievances = Grievance.objects.filter(_cohort_q("", community_ids, low, high))
    counts: dict[Any, dict[str, int]] = {}
    for key, row in _grouped(
        grievances,
        column,
        filed=Count("pk"),
        responded=Count("pk", filter=Q(_answered_in_time())),
        resolved=Count("pk", filter=Q(status__in=DONE)),
        reopened=Count("pk", filter=Q(reopen_count__gt=0)),
        resolved_once=Count("pk", filter=Q(reopen_count__gt=0) | Q(status__in=DONE)),
        suggestions=Count("pk", filter=Q(channel=Grievance.Channel.SUGGESTION_BOX)),
        suggestions_rectified=Count(
            "pk", filter=Q(channel=Grievance.Channel.SUGGESTION_BOX, status__in=DONE)
        ),
    ).items():
        counts[key] = {name: value for name, value in row.items() if name != column}

    on_time = Q(state=State.STOPPED, met_at__lte=F("due_at"))
    late_live = Q(state=State.RUNNING, due_at__lt=now) | Q(
        state=State.PAUSED, due_at__lt=F("paused_at")
    )
    clocks = SlaClock.objects.filter(_cohort_q("grievance__", community_ids, low, high))
    for key, row in _grouped(
        clocks,
        f"grievance__{column}",
        clocks_judged=Count("pk", filter=Q(state=State.STOPPED) | late_live),
        clocks_on_time=Count("pk", filter=on_time),
    ).items():
        counts.setdefault(key, {}).update(
            clocks_judged=row["clocks_judged"], clocks_on_time=row["clocks_on_time"]
        )

    ratings = Rating.objects.filter(
        _cohort_q("grievance__", community_ids, low, high), automatic=False
    )
    for key, row in _grouped(
        ratings,
        f"grievance__{column}",
        ratings=Count("pk"),
        ratings_solved=Count("pk", filter=Q(solved=True)),
        stars_total=Sum("stars", default=0),
        stars_count=Count("stars"),
    ).items():
        counts.setdefault(key, {}).update(
            {name: value for name, value in row.items() if name != f"grievance__{column}"}
        )
    return counts


def _residents_per_community(community_ids: list[int]) -> dict[int, int]:
    column = "household__unit__building__estate__community_id"
    rows = (
        Resident.objects.filter(status=Resident.Status.ACTIVE, **{f"{column}__in": community_ids})
        .values(column)
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row[column]: row["n"] for row in rows}


def _rows(
    counts: dict[Any, dict[str, int]],
    labels: dict[Any, str],
    residents: Callable[[Any], int | None],
) -> list[KpiRow]:
    rows = [
        KpiRow(key=key, label=labels.get(key, ""), residents=residents(key), **values)
        for key, values in counts.items()
    ]
    # Most grievances first; a tie by name, so the order is stable between exports.
    return sorted(rows, key=lambda row: (-row.filed, row.label, row.key or 0))


def _total(rows: list[KpiRow], *, residents: int) -> KpiRow:
    sums = {name: sum(getattr(row, name) for row in rows) for name in COUNTS}
    return KpiRow(key=None, label=_("All"), residents=residents, **sums)


def kpi_communities(*, user: Any, community: Community | None = None) -> list[Community]:
    """The communities a report covers: all the user oversees, or one of them."""
    qs = board_communities(user=user)
    if community is not None:
        qs = qs.filter(pk=community.pk)
    return list(qs)


def grievance_kpis(
    *,
    user: Any,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    community: Community | None = None,
) -> KpiReport:
    """The KPIs of the grievances filed from `start` to `end` (inclusive, local dates) in
    the communities the user oversees (or the one given, if overseen), with breakdowns."""
    communities = kpi_communities(user=user, community=community)
    community_ids = sorted(c.pk for c in communities)
    low, high = _bounds(start, end)
    people = _residents_per_community(community_ids) if community_ids else {}
    population = sum(people.values())

    if not community_ids:
        empty = KpiRow(key=None, label=_("All"), residents=0)
        return KpiReport(start=start, end=end, communities=[], total=empty)

    by_community = _rows(
        _breakdown("community_id", community_ids, low, high, now),
        {c.pk: c.name for c in communities},
        lambda key: people.get(key, 0),
    )
    # Every community of the report has a row, even one with nothing filed: "0 filed" is
    # an answer a street supervisor wants to see.
    listed = {row.key for row in by_community}
    by_community += [
        KpiRow(key=c.pk, label=c.name, residents=people.get(c.pk, 0))
        for c in communities
        if c.pk not in listed
    ]

    handler_counts = _breakdown("handler_organization_id", community_ids, low, high, now)
    handler_labels: dict[Any, str] = {
        org.pk: org.name
        for org in Organization.objects.filter(pk__in=[k for k in handler_counts if k])
    }
    handler_labels[None] = _("No handler yet (the office)")
    by_handler = _rows(handler_counts, handler_labels, lambda key: None)

    category_counts = _breakdown("category_id", community_ids, low, high, now)
    category_labels = {
        category.pk: str(category)
        for category in Category.objects.filter(pk__in=list(category_counts)).select_related(
            "parent"
        )
    }
    by_category = _rows(category_counts, category_labels, lambda key: population)

    total = _total(by_community, residents=population)
    return KpiReport(
        start=start,
        end=end,
        communities=communities,
        total=total,
        by_community=by_community,
        by_handler=by_handler,
        by_category=by_category,
    )
