"""My hours and points (我的服务时长与积分): a volunteer's phone page of every attendance,
20 a page, the confirmed hours in total and this year, and the points volunteering earned
(the reads: `volunteers.selectors.hours`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from volunteers.models import Attendance
from volunteers.selectors import pages as selectors
from volunteers.selectors.hours import PAGE_SIZE, VolunteerPoints, hours_page, volunteer_points


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
