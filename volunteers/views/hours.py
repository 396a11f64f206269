"""My hours and points (我的服务时长与积分): a volunteer's phone page of every attendance,
20 a page, the confirmed hours in total and this year, and the points volunteering earned.

The reads below take the acting user and return only that user's own rows, like the
selectors of `volunteers.selectors.pages`; the points come from credit's own selector of
the user's history (`my_history_or_none`), narrowed to the entries an attendance earned
(and their reversals). Query count does not depend on the number of attendances.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, Sum, Window
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

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


@login_required
@require_GET
def my_hours(request: HttpRequest) -> HttpResponse:
    """Every attendance of mine (20 a page), my confirmed hours and my volunteering points."""
    user = request.user
    year = timezone.localtime(timezone.now()).year
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    found = hours_page(user=user, year=year, number=number)
    summary = found.summary
    # Nobody to show hours to: never attended and no community to volunteer in (as home).
    if summary.attendances == 0 and not selectors.volunteer_community_ids(user=user):
        raise Http404
    # The pager's count is the one read with the totals: no COUNT query.
    pager: Paginator[int] = Paginator(range(summary.attendances), PAGE_SIZE)
    page: Page[Attendance] = Page(found.rows, found.number, pager)  # type: ignore[arg-type]
    points = volunteer_points(user=user)
    return render(
        request,
        "volunteers/hours.html",
        {
            "page": page,
            "rows": [_line(a, points) for a in found.rows],
            "confirmed_hours": summary.confirmed_hours,
            "year": year,
            "year_hours": summary.year_hours,
            "points": points,
        },
    )


@dataclass(frozen=True)
class HoursLine:
    """One attendance as the page shows it, its words made here: twenty rows of template
    tags (translate, floatformat, date) cost as much as the page's reads (make bench)."""

    pk: int
    activity_start: Any
    title: str
    date: str
    state: str  # confirmed, waiting, no-show, checked-in
    state_label: str
    hours: str  # "2.5 h", "No-show", "Checked in"
    points: int | None  # what its award left in the account; None: no award or no account
    points_label: str


_STATE_LABELS = {
    "confirmed": gettext_lazy("confirmed"),
    "no-show": gettext_lazy("no-show"),
    "waiting": gettext_lazy("waiting for confirmation"),
    "checked-in": gettext_lazy("waiting for confirmation"),
}


def _line(attendance: Any, points: VolunteerPoints | None) -> HoursLine:
    state = _state(attendance)
    counted = attendance.counted_hours
    if state == "no-show":
        hours = _("No-show")
    elif counted is not None:
        hours = _("%(h)s h") % {"h": _decimal_text(counted)}
    else:
        hours = _("Checked in")
    earned = None if points is None else points.by_attendance.get(attendance.pk)
    return HoursLine(
        pk=attendance.pk,
        activity_start=attendance.activity_start,
        title=attendance.activity_title,
        date=timezone.localtime(attendance.activity_start).strftime("%Y-%m-%d"),
        state=state,
        state_label=str(_STATE_LABELS[state]),
        hours=hours,
        points=earned,
        points_label=_("+%(n)s points") % {"n": earned} if earned else "",
    )


def _decimal_text(value: Decimal) -> str:
    """Up to two decimals, none for a whole number (the template's floatformat:"-2")."""
    cents = value.quantize(Decimal("0.01"))
    return str(int(cents)) if cents == cents.to_integral_value() else f"{cents:f}"


def _state(attendance: Attendance) -> str:
    """What the row shows: confirmed, waiting for confirmation, no-show (or checked in)."""
    if attendance.no_show:
        return "no-show"
    if attendance.confirmed_at is not None:
        return "confirmed"
    if attendance.checked_out_at is None:
        return "checked-in"
    return "waiting"
