"""Excel exports of the staff workbench: the KPI report and the board's 台账 (ledger).

An export is a copy outside the system's access control (PIPL art. 51): the ledger has no
names, no descriptions and no rooms, and phones leave only masked (138****8000). Rows are
streamed in openpyxl's write-only mode into a temporary file, so memory stays flat
whatever the size. Times are the community's wall clock (Excel has no time zones).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Iterable
from typing import IO, Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from accounts.phone import mask_phone
from community.registry_export import content_disposition
from grievances.models import Grievance, SlaClockSpec
from grievances.selectors.e_board import board_export_list
from grievances.selectors.e_kpis import KpiReport, KpiRow
from grievances.views import kpis as kpi_views
from grievances.views.staff import board_filters, board_row, require_board

logger = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The lists the ledger export may take ("all": every grievance matching the filters).
EXPORT_LISTS = ("all", "new", "unassigned", "overdue", "due_soon")
# What spreadsheet programs read as the start of a formula (OWASP "CSV injection"): a
# title like "=HYPERLINK(…)" typed by a resident stays text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(sheet: Any, value: Any, *, number_format: str = "", bold: bool = False) -> WriteOnlyCell:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).replace(tzinfo=None)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True
    elif isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif number_format:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def _sheet(book: Workbook, title: str, widths: list[int]) -> Any:
    sheet = book.create_sheet(title[:31])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"
    return sheet


# --- KPIs -----------------------------------------------------------------------------------


def _kpi_columns() -> list[tuple[str, int, Any, str]]:
    """(header, width, value of a row, number format) of a KPI sheet."""
    return [
        (_("Grievances filed"), 10, lambda r: r.filed, "0"),
        (_("Answered in time"), 10, lambda r: r.responded, "0"),
        (_("Response rate"), 10, lambda r: r.response_rate, "0.0%"),
        (_("Clocks with a verdict"), 10, lambda r: r.clocks_judged, "0"),
        (_("Clocks met on time"), 10, lambda r: r.clocks_on_time, "0"),
        (_("On-time rate"), 10, lambda r: r.on_time_rate, "0.0%"),
        (_("Resolved or closed"), 10, lambda r: r.resolved, "0"),
        (_("Resolution rate"), 10, lambda r: r.resolution_rate, "0.0%"),
        (_("Ratings"), 8, lambda r: r.ratings, "0"),
        (_("Rated solved"), 8, lambda r: r.ratings_solved, "0"),
        (_("Satisfaction rate"), 10, lambda r: r.satisfaction_rate, "0.0%"),
        (_("Average stars"), 8, lambda r: r.average_stars, "0.00"),
        (_("Resolved at least once"), 10, lambda r: r.resolved_once, "0"),
        (_("Reopened"), 8, lambda r: r.reopened, "0"),
        (_("Reopen rate"), 10, lambda r: r.reopen_rate, "0.0%"),
        (_("Residents"), 10, lambda r: r.residents, "0"),
        (_("Per 1,000 residents"), 10, lambda r: r.per_thousand_residents, "0.00"),
        (_("Suggestions"), 8, lambda r: r.suggestions, "0"),
        (_("Suggestions rectified"), 10, lambda r: r.suggestions_rectified, "0"),
        (_("Rectification rate"), 10, lambda r: r.rectification_rate, "0.0%"),
    ]


def kpi_workbook_write(*, report: KpiReport, target: IO[bytes]) -> int:
    """Write the report to `target` as .xlsx: a sheet of definitions, then one sheet per
    breakdown (its rows and the total). Returns the number of rows written."""
    book = Workbook(write_only=True)
    about = _sheet(book, _("Definitions"), [22, 100])
    about.append(
        [
            _cell(about, _("Period"), bold=True),
            f"{report.start:%Y-%m-%d} – {report.end:%Y-%m-%d}",
        ]
    )
    about.append(
        [
            _cell(about, _("Communities"), bold=True),
            "、".join(c.name for c in report.communities),
        ]
    )
    about.append([])
    for name, text in kpi_views.definitions():
        about.append([_cell(about, name, bold=True), text])

    columns = _kpi_columns()
    rows_written = 0
    for _key, title, rows in kpi_views.breakdowns(report):
        sheet = _sheet(book, title, [28] + [width for _h, width, _v, _f in columns])
        sheet.append(
            [_cell(sheet, title, bold=True)]
            + [_cell(sheet, header, bold=True) for header, _w, _v, _f in columns]
        )
        all_rows: list[tuple[KpiRow, bool]] = [(row, False) for row in rows]
        all_rows.append((report.total, True))
        for row, is_total in all_rows:
            sheet.append(
                [_cell(sheet, row.label, bold=is_total)]
                + [
                    _cell(sheet, value(row), number_format=fmt, bold=is_total)
                    for _h, _w, value, fmt in columns
                ]
            )
            rows_written += 1
    book.save(target)
    return rows_written


@login_required
@require_GET
def kpis_export(request: HttpRequest) -> HttpResponseBase:
    """The KPI report of the chosen period as a workbook, a sheet per breakdown."""
    kpi_views.require_kpis(request)
    now = timezone.now()
    form = kpi_views.kpi_form(request, now)
    if not form.is_valid():
        context = {
            "form": form,
            "headers": [m.header for m in kpi_views.measures()],
            "definitions": kpi_views.definitions(),
        }
        return render(request, "grievances/staff/kpis.html", context, status=400)
    report = kpi_views.kpi_report(request, form, now)
    target = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    kpi_workbook_write(report=report, target=target)
    target.seek(0)
    name = _("grievance-kpis_%(start)s-%(end)s.xlsx") % {
        "start": f"{report.start:%Y%m%d}",
        "end": f"{report.end:%Y%m%d}",
    }
    response = FileResponse(target, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(
        name, f"grievance-kpis-{report.start:%Y%m%d}-{report.end:%Y%m%d}.xlsx"
    )
    response["Cache-Control"] = "no-store"
    return response


# --- the ledger (台账) of the board's filtered list -----------------------------------------


def _phone(g: Grievance) -> str:
    if g.is_anonymous:
        return ""
    phone = g.caller_phone or (g.reporter.phone if g.reporter is not None else "")
    return mask_phone(phone)


def _ledger_columns(now: dt.datetime) -> list[tuple[str, int, Any]]:
    """(header, width, value); only what the office needs, and no names."""

    def left(g: Grievance) -> str:
        return board_row(g, now).time_left

    def clock(g: Grievance) -> str:
        kind = getattr(g, "next_kind", None) or ""
        return str(SlaClockSpec.Kind(kind).label) if kind in SlaClockSpec.Kind.values else ""

    return [
        (_("No."), 8, lambda g: g.pk),
        (_("Filed at"), 17, lambda g: g.submitted_at),
        (_("Community"), 12, lambda g: g.community.name),
        (_("Estate"), 14, lambda g: g.estate.name if g.estate else ""),
        (_("Building"), 8, lambda g: g.building.number if g.building else ""),
        (_("Category"), 18, lambda g: str(g.category)),
        (_("Title"), 30, lambda g: g.title),
        (_("Channel"), 10, lambda g: g.get_channel_display()),
        (_("Status"), 10, lambda g: g.get_status_display()),
        (_("Tier"), 12, lambda g: g.get_tier_display()),
        (_("Phone (masked)"), 14, _phone),
        (
            _("Handling organization"),
            18,
            lambda g: g.handler_organization.name if g.handler_organization else "",
        ),
        (_("Accepted at"), 17, lambda g: g.accepted_at),
        (_("Resolved at"), 17, lambda g: g.resolved_at),
        (_("Closed at"), 17, lambda g: g.closed_at),
        (_("Times reopened"), 8, lambda g: g.reopen_count),
        (_("Next clock"), 12, clock),
        (_("Due at"), 17, lambda g: getattr(g, "next_due", None)),
        (_("Time left"), 14, left),
    ]


def ledger_workbook_write(
    *, grievances: Iterable[Grievance], target: IO[bytes], now: dt.datetime
) -> int:
    """Write grievances (from `board_export_list`) to `target` as .xlsx; returns rows."""
    columns = _ledger_columns(now)
    book = Workbook(write_only=True)
    sheet = _sheet(book, _("Grievances"), [width for _h, width, _v in columns])
    sheet.append([_cell(sheet, header, bold=True) for header, _w, _v in columns])
    count = 0
    for grievance in grievances:
        sheet.append([_cell(sheet, value(grievance)) for _h, _w, value in columns])
        count += 1
    book.save(target)
    return count


@login_required
@require_GET
def board_export(request: HttpRequest) -> HttpResponse | HttpResponseBase:
    """The board's filtered grievances (all of them, or one list) as a masked workbook."""
    require_board(request)
    which = request.GET.get("list") or "all"
    if which not in EXPORT_LISTS:
        return HttpResponse(_("Unknown list."), status=400)
    now = timezone.now()
    _form, filters = board_filters(request)
    grievances = board_export_list(user=request.user, which=which, now=now, **filters)
    target = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    rows = ledger_workbook_write(
        grievances=grievances.iterator(chunk_size=1000), target=target, now=now
    )
    target.seek(0)
    logger.info("grievance ledger export by user %s: %s rows (%s)", request.user.pk, rows, which)
    today = timezone.localdate(now)
    response = FileResponse(target, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(
        _("grievances_%(date)s.xlsx") % {"date": f"{today:%Y%m%d}"},
        f"grievances-{today:%Y%m%d}.xlsx",
    )
    response["Cache-Control"] = "no-store"
    return response
