"""KPIs of grievance handling for a period (诉求办理考核): per community, handler, category.

For those who oversee communities (office staff and admins, street supervisors,
superusers); anyone else gets 404. The figures and their definitions come from
grievances.selectors.e_kpis; this page only chooses the period and shows them, and the
Excel export (views.exports) writes the same report.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from community.models import Community
from grievances.selectors.e_board import board_communities, board_may_view
from grievances.selectors.e_kpis import KpiReport, KpiRow, grievance_kpis, response_minutes

#: The longest custom period (a year, for the annual report).
MAX_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start, _end = month_bounds(year, 3 * quarter - 2)
    _start, end = month_bounds(year, 3 * quarter)
    return start, end


def recent_quarters(today: dt.date, count: int = 8) -> list[tuple[str, str]]:
    """The last `count` quarters, this one first, as (value, label) choices."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    choices = []
    for _i in range(count):
        choices.append((f"{year}-Q{quarter}", _("%(year)s Q%(q)s") % {"year": year, "q": quarter}))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return choices


class KpiPeriodForm(forms.Form):
    """The period (a month, a quarter or custom dates) and, for many, one community."""

    period = forms.ChoiceField(
        label=gettext_lazy("Period"),
        required=False,
        choices=[
            ("month", gettext_lazy("Month")),
            ("quarter", gettext_lazy("Quarter")),
            ("custom", gettext_lazy("Custom dates")),
        ],
    )
    month = forms.CharField(label=gettext_lazy("Month"), required=False, max_length=7)
    quarter = forms.CharField(label=gettext_lazy("Quarter"), required=False, max_length=7)
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": gettext_lazy("Give the start date as YYYY-MM-DD.")},
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": gettext_lazy("Give the end date as YYYY-MM-DD.")},
    )
    community = forms.ModelChoiceField(
        label=gettext_lazy("Community"),
        queryset=Community.objects.none(),
        required=False,
        empty_label=gettext_lazy("All my communities"),
    )

    def __init__(self, *args: Any, user: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["community"].queryset = board_communities(user=user)  # type: ignore[attr-defined]
        self.quarters = recent_quarters(today)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        period = data.get("period") or "month"
        if period == "month":
            match = _MONTH.match(data.get("month") or f"{self.today:%Y-%m}")
            if match is None or not 1 <= int(match[2]) <= 12:
                raise forms.ValidationError(_("Give the month as YYYY-MM."))
            start, end = month_bounds(int(match[1]), int(match[2]))
        elif period == "quarter":
            default = self.quarters[0][0]
            match = _QUARTER.match((data.get("quarter") or default).upper())
            if match is None:
                raise forms.ValidationError(_("Give the quarter as YYYY-Qn."))
            start, end = quarter_bounds(int(match[1]), int(match[2]))
        else:
            if data.get("start") is None or data.get("end") is None:
                raise forms.ValidationError(_("Give both dates."))
            start, end = data["start"], data["end"]
            if start > end:
                raise forms.ValidationError(_("The start date is after the end date."))
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(
                    _("Choose at most %(days)s days at a time.") % {"days": MAX_DAYS}
                )
        data["period"], data["range"] = period, (start, end)
        return data


def kpi_form(request: HttpRequest, now: dt.datetime) -> KpiPeriodForm:
    """The period form bound to the query string (this month when nothing is given)."""
    today = timezone.localdate(now)
    data = request.GET if request.GET else {"period": "month", "month": f"{today:%Y-%m}"}
    form = KpiPeriodForm(data, user=request.user, today=today)
    form.is_valid()
    return form


def kpi_report(request: HttpRequest, form: KpiPeriodForm, now: dt.datetime) -> KpiReport:
    start, end = form.cleaned_data["range"]
    return grievance_kpis(
        user=request.user,
        start=start,
        end=end,
        now=now,
        community=form.cleaned_data.get("community"),
    )


def require_kpis(request: HttpRequest) -> None:
    if not board_may_view(user=request.user):
        raise Http404


# --- what a report shows --------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One KPI column: its header, its value and the counts behind it."""

    header: Any
    value: Callable[[KpiRow], float | None]
    kind: str  # rate | stars | per_thousand
    part: Callable[[KpiRow], int | None] | None = None
    whole: Callable[[KpiRow], int | None] | None = None


def measures() -> list[Measure]:
    return [
        Measure(
            gettext_lazy("Response rate"),
            lambda r: r.response_rate,
            "rate",
            lambda r: r.responded,
            lambda r: r.filed,
        ),
        Measure(
            gettext_lazy("On-time rate"),
            lambda r: r.on_time_rate,
            "rate",
            lambda r: r.clocks_on_time,
            lambda r: r.clocks_judged,
        ),
        Measure(
            gettext_lazy("Resolution rate"),
            lambda r: r.resolution_rate,
            "rate",
            lambda r: r.resolved,
            lambda r: r.filed,
        ),
        Measure(
            gettext_lazy("Satisfaction rate"),
            lambda r: r.satisfaction_rate,
            "rate",
            lambda r: r.ratings_solved,
            lambda r: r.ratings,
        ),
        Measure(gettext_lazy("Average stars"), lambda r: r.average_stars, "stars"),
        Measure(
            gettext_lazy("Reopen rate"),
            lambda r: r.reopen_rate,
            "rate",
            lambda r: r.reopened,
            lambda r: r.resolved_once,
        ),
        Measure(
            gettext_lazy("Per 1,000 residents"),
            lambda r: r.per_thousand_residents,
            "per_thousand",
            lambda r: r.filed,
            lambda r: r.residents,
        ),
        Measure(
            gettext_lazy("Suggestions rectified"),
            lambda r: r.rectification_rate,
            "rate",
            lambda r: r.suggestions_rectified,
            lambda r: r.suggestions,
        ),
    ]


def measure_text(measure: Measure, row: KpiRow) -> tuple[str, str]:
    """(the value as the page shows it, the counts behind it) — "—" when there is no data."""
    value = measure.value(row)
    counts = ""
    if measure.part is not None and measure.whole is not None:
        whole = measure.whole(row)
        if whole is not None:
            counts = f"{measure.part(row)}/{whole}"
    if value is None:
        return "—", counts
    if measure.kind == "rate":
        return f"{value * 100:.1f}%", counts
    if measure.kind == "stars":
        return f"{value:.2f}", counts
    return f"{value:.2f}", counts


@dataclass(frozen=True)
class ShownRow:
    label: str
    filed: int
    cells: list[tuple[str, str]]
    is_total: bool = False


def shown_rows(rows: list[KpiRow], *, total: KpiRow | None = None) -> list[ShownRow]:
    columns = measures()
    shown = [
        ShownRow(row.label, row.filed, [measure_text(m, row) for m in columns]) for row in rows
    ]
    if total is not None:
        shown.append(
            ShownRow(total.label, total.filed, [measure_text(m, total) for m in columns], True)
        )
    return shown


def breakdowns(report: KpiReport) -> list[tuple[str, str, list[KpiRow]]]:
    """(key, title, rows) of each breakdown, in the order the page and the export use."""
    return [
        ("community", _("By community"), report.by_community),
        ("handler", _("By handling organization"), report.by_handler),
        ("category", _("By category"), report.by_category),
    ]


def definitions() -> list[tuple[str, str]]:
    """What each figure means (shown under the tables and on the export's first sheet)."""
    minutes = response_minutes()
    return [
        (
            _("Grievances filed"),
            _(
                "Grievances filed in the period in the communities of the report, "
                "leaving out duplicates merged into another grievance. Every figure "
                "below is about these grievances, even when the work ended later."
            ),
        ),
        (
            _("Response rate"),
            _(
                "Share of them the office answered (accepted, dispatched or rejected) "
                "within %(minutes)s minutes of filing."
            )
            % {"minutes": minutes},
        ),
        (
            _("On-time rate"),
            _(
                "Share of their service clocks (1715 and repair times) met by the due "
                "time, among clocks already met or already past due."
            ),
        ),
        (_("Resolution rate"), _("Share of them now resolved or closed.")),
        (
            _("Satisfaction rate"),
            _(
                "Share of the reporters' ratings saying “solved”; closures nobody "
                "answered are left out. Average stars over the same ratings."
            ),
        ),
        (
            _("Reopen rate"),
            _("Share of those resolved at least once that were reopened as not solved."),
        ),
        (
            _("Per 1,000 residents"),
            _(
                "Grievances filed per 1,000 residents living in the communities "
                "(registry); not computed per handler."
            ),
        ),
        (
            _("Suggestions rectified"),
            _("Share of the suggestion box grievances now resolved or closed."),
        ),
    ]


@login_required
@require_GET
def kpis_page(request: HttpRequest) -> HttpResponse:
    """The KPI page: the period form, the totals and the three breakdowns."""
    require_kpis(request)
    now = timezone.now()
    form = kpi_form(request, now)
    context: dict[str, Any] = {
        "form": form,
        "headers": [m.header for m in measures()],
        "definitions": definitions(),
        "query": request.GET.urlencode(),
    }
    if not form.is_valid():
        return render(request, "grievances/staff/kpis.html", context, status=400)
    report = kpi_report(request, form, now)
    total = shown_rows([], total=report.total)[0]
    context.update(
        report=report,
        total=total,
        total_cells=list(zip(context["headers"], total.cells, strict=True)),
        tables=[
            (key, title, shown_rows(rows, total=report.total))
            for key, title, rows in breakdowns(report)
        ],
    )
    return render(request, "grievances/staff/kpis.html", context)
