"""Reads of "my hours and points" (我的服务时长与积分): a page of the user's attendances with
their confirmed hours in total and this year, and the points volunteering earned.

Each takes the acting user and returns only that user's own rows; the points come from
credit's own selector of the user's history (`my_history_or_none`), narrowed to the entries
an attendance earned (and their reversals). Query count does not depend on the number of
attendances.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, Sum, Window
from django.db.models.functions import Coalesce

from credit.models import PointsEntry
from credit.selectors.history import my_history_or_none
from volunteers.models import Attendance
from volunteers.selectors import pages as selectors
from volunteers.selectors.stats import year_bounds

PAGE_SIZE = 20


@dataclass(frozen=True)
class VolunteerPoints:
    """What the user's attendances earned in the ledger (None for a user who is not a
    resident: outside volunteers have no points account)."""

    total: int
    #: attendance id -> points its award left in the account (0 once reversed)
    by_attendance: dict[int, int]


@dataclass(frozen=True)
class HoursSummary:
    attendances: int  # all of them: confirmed, waiting, no-shows
    confirmed_hours: Decimal  # the sum `volunteers.selectors.pages.user_confirmed_hours` makes
    year_hours: Decimal  # confirmed, of activities that started in the local calendar year


@dataclass(frozen=True)
class HoursPage:
    rows: Sequence[Attendance]
    number: int
    summary: HoursSummary


def hours_page(*, user: Any, year: int, number: int, size: int = PAGE_SIZE) -> HoursPage:
    """A page of the user's attendances (`own_attendances`) with the count and confirmed
    hours of all of them, in total and in `year`: one query (window sums over the same
    rows), a second one only for a page past the end (the last page is given instead)."""
    if user is None or not user.is_authenticated:
        return HoursPage([], 1, HoursSummary(0, Decimal(0), Decimal(0)))
    start, end = year_bounds(year)
    hours = Coalesce("corrected_hours", "hours")
    confirmed = Q(confirmed_at__isnull=False)
    this_year = confirmed & Q(activity_start__gte=start, activity_start__lt=end)
    rows_with_totals = selectors.own_attendances(user=user).annotate(
        all_count=Window(Count("pk")),
        all_hours=Window(Sum(hours, filter=confirmed)),
        year_total=Window(Sum(hours, filter=this_year)),
    )
    number = max(number, 1)
    rows = list(rows_with_totals[(number - 1) * size : number * size])
    if not rows and number > 1:  # past the end: the last page, if there is any
        count = Attendance.objects.filter(user=user).count()
        number = max(1, -(-count // size))
        rows = list(rows_with_totals[(number - 1) * size : number * size])
    if not rows:
        return HoursPage([], 1, HoursSummary(0, Decimal(0), Decimal(0)))
    first: Any = rows[0]
    summary = HoursSummary(
        first.all_count, first.all_hours or Decimal(0), first.year_total or Decimal(0)
    )
    return HoursPage(rows, number, summary)


def volunteer_points(*, user: Any) -> VolunteerPoints | None:
    """What the user's attendances earned: the awards of confirmed hours less their
    reversals, in total and per attendance. Two queries (one without an account); None
    when the user is not a resident."""
    history = my_history_or_none(user=user)
    if history is None:
        return None
    if history.query.is_empty():  # a resident without a points account yet
        return VolunteerPoints(total=0, by_attendance={})
    # Confirmation awards the per-hour rule with the attendance as the entry's source
    # (volunteers.services.attendance); a reversal has no source, only what it undoes.
    attendance = ContentType.objects.get_for_model(Attendance)
    moves = history.filter(
        Q(source_type=attendance) | Q(reverses__source_type=attendance)
    ).values_list("kind", "amount", "source_id", "reverses__source_id")
    by_attendance: dict[int, int] = defaultdict(int)
    for kind, amount, source, undone in moves:
        # The award credits the resident's account; its reversal debits it back.
        sign = -1 if kind == PointsEntry.Kind.REVERSAL else 1
        by_attendance[int(source or undone)] += sign * amount
    return VolunteerPoints(total=sum(by_attendance.values()), by_attendance=by_attendance)
