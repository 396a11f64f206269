"""Excel ledgers (台账) of the volunteers app: the team rosters, the hours ledger with its
totals, and the per-member report for an employer unit (下沉党员 of one work unit).

An export is a copy outside the system's access control (PIPL art. 51): phones leave
only masked (138****8000) and no other personal data than the office's roster needs.
openpyxl's write-only mode streams rows to a temporary file, so memory stays flat however
many attendances a year holds. Times are the community's wall clock (Excel has no time
zones). The reads take the acting user and return nothing for anyone but the community's
staff, like every selector.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from accounts.phone import mask_phone
from volunteers.models import Attendance, TeamMember
from volunteers.selectors.party import MemberRow
from volunteers.selectors.stats import HoursStatistics

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What spreadsheet programs read as the start of a formula (OWASP "CSV injection"): a
# team or activity named "=HYPERLINK(…)" stays text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters Windows refuses in a file name; an employer's name may hold them.
_UNSAFE_IN_FILE_NAME = re.compile(r'[\\/:*?"<>|\s]+')
HOURS = "0.00"

Column = tuple[str, int, Callable[[Any], Any], str]


# --- cells and sheets -----------------------------------------------------------------------


def _cell(sheet: Any, value: Any, *, number_format: str = "", bold: bool = False) -> WriteOnlyCell:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).replace(tzinfo=None)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        # Stored as a string and quote-prefixed, so Excel keeps it text when edited.
        cell.data_type = "s"
        cell.quotePrefix = True
    elif isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    elif number_format:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def _sheet(book: Workbook, title: str, columns: list[Column]) -> Any:
    sheet = book.create_sheet(title[:31])
    for index, (_header, width, _value, _fmt) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_cell(sheet, header, bold=True) for header, _w, _v, _f in columns])
    return sheet


def _rows(sheet: Any, columns: list[Column], items: Iterable[Any]) -> int:
    count = 0
    for item in items:
        sheet.append(
            [_cell(sheet, value(item), number_format=fmt) for _h, _w, value, fmt in columns]
        )
        count += 1
    return count


def safe_file_part(text: str) -> str:
    """A piece of a file name without the characters Windows refuses."""
    return _UNSAFE_IN_FILE_NAME.sub("_", text).strip("_.")[:60] or "-"


def _local_date(value: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(value) if value is not None else None


# --- B1: the team rosters -------------------------------------------------------------------


def _member_name(m: TeamMember) -> str:
    if m.name:
        return m.name
    if m.resident is not None:
        return m.resident.name
    return m.user.name if m.user is not None else ""


def _member_phone(m: TeamMember) -> str:
    phone = m.phone or (m.resident.phone if m.resident is not None else "")
    if not phone and m.user is not None:
        phone = m.user.phone
    return mask_phone(phone)


def _roster_columns() -> list[Column]:
    """(header, width, value, number format); headers translated when the file is written."""
    return [
        (_("Team"), 18, lambda m: m.team.name, ""),
        (_("Role"), 8, lambda m: m.get_role_display(), ""),
        (_("Name"), 12, _member_name, ""),
        (_("Phone (masked)"), 14, _member_phone, ""),
        (_("Employer"), 22, lambda m: m.employer, ""),
        (_("Party branch"), 22, lambda m: m.party_branch, ""),
        (_("Joined on"), 12, lambda m: _local_date(m.joined_at), ""),
    ]


def roster_workbook_write(*, members: Iterable[TeamMember], target: IO[bytes]) -> int:
    """Write team members (from `roster_export_list`) to `target` as .xlsx; returns rows."""
    columns = _roster_columns()
    book = Workbook(write_only=True)
    sheet = _sheet(book, _("Team rosters"), columns)
    count = _rows(sheet, columns, members)
    book.save(target)
    return count


# --- B2: the hours ledger -------------------------------------------------------------------


def _ledger_columns() -> list[Column]:
    return [
        (_("Date"), 11, lambda t: _local_date(t.activity.starts_at), ""),
        (_("Activity"), 26, lambda t: t.activity.title, ""),
        (_("Team"), 16, lambda t: t.activity.team.name if t.activity.team else "", ""),
        (
            _("Public-service post"),
            12,
            lambda t: t.activity.post.name if t.activity.post else "",
            "",
        ),
        (_("Volunteer"), 12, lambda t: t.user.name, ""),
        (_("Phone (masked)"), 14, lambda t: mask_phone(t.user.phone), ""),
        (_("Checked in at"), 17, lambda t: t.checked_in_at, ""),
        (_("Checked out at"), 17, lambda t: t.checked_out_at, ""),
        (_("Hours"), 8, lambda t: t.hours, HOURS),
        (_("Corrected hours"), 10, lambda t: t.corrected_hours, HOURS),
        (_("Counted hours"), 10, lambda t: t.counted_hours, HOURS),
        (_("Confirmed by"), 12, lambda t: t.confirmed_by.name if t.confirmed_by else "", ""),
        (_("Confirmed at"), 17, lambda t: t.confirmed_at, ""),
    ]


def _totals_sheet(book: Workbook, stats: HoursStatistics) -> None:
    sheet = book.create_sheet(_("Totals")[:31])
    for letter, width in (("A", 22), ("B", 12), ("C", 12)):
        sheet.column_dimensions[letter].width = width
    none = _("(none)")

    def block(title: str, rows: Iterable[tuple[Any, Any, int]]) -> None:
        sheet.append(
            [
                _cell(sheet, title, bold=True),
                _cell(sheet, _("Hours"), bold=True),
                _cell(sheet, _("Attendances"), bold=True),
            ]
        )
        for label, hours, attendances in rows:
            sheet.append(
                [
                    _cell(sheet, label if label != "" else none),
                    _cell(sheet, hours, number_format=HOURS),
                    _cell(sheet, attendances),
                ]
            )
        sheet.append([])

    block(_("Team"), stats.by_team)
    block(
        _("Month"),
        ((f"{stats.year}-{month:02d}", hours, n) for month, hours, n in stats.by_month),
    )
    block(_("Public-service post"), stats.by_post)
    sheet.append(
        [
            _cell(sheet, _("Total"), bold=True),
            _cell(sheet, stats.total_hours, number_format=HOURS, bold=True),
            _cell(sheet, stats.total_attendances, bold=True),
        ]
    )


def hours_workbook_write(
    *, attendances: Iterable[Attendance], stats: HoursStatistics, target: IO[bytes]
) -> int:
    """Write the ledger (from `hours_ledger`) and the year's totals (from
    `hours_statistics`) to `target` as .xlsx; returns the ledger's rows."""
    columns = _ledger_columns()
    book = Workbook(write_only=True)
    sheet = _sheet(book, _("Hours ledger"), columns)
    count = _rows(sheet, columns, attendances)
    _totals_sheet(book, stats)
    book.save(target)
    return count


# --- B3: the report for an employer unit ----------------------------------------------------


def _employer_columns() -> list[Column]:
    return [
        (_("Name"), 12, lambda m: m.registration.name, ""),
        (_("Phone (masked)"), 14, lambda m: m.phone, ""),
        (_("Party branch"), 22, lambda m: m.registration.party_branch, ""),
        (
            _("Public-service post"),
            12,
            lambda m: m.registration.post.name if m.registration.post else "",
            "",
        ),
        (_("Duties"), 40, lambda m: m.registration.duties, ""),
        ("Q1", 8, lambda m: m.hours.q1, HOURS),
        ("Q2", 8, lambda m: m.hours.q2, HOURS),
        ("Q3", 8, lambda m: m.hours.q3, HOURS),
        ("Q4", 8, lambda m: m.hours.q4, HOURS),
        (_("Total hours"), 10, lambda m: m.hours.total, HOURS),
        (_("Attendances"), 10, lambda m: m.hours.attendances, ""),
    ]


def employer_workbook_write(*, members: Iterable[MemberRow], target: IO[bytes]) -> int:
    """Write an employer unit's members (from `registered_members`) to `target`; returns
    rows."""
    columns = _employer_columns()
    book = Workbook(write_only=True)
    sheet = _sheet(book, _("Party members"), columns)
    count = _rows(sheet, columns, members)
    book.save(target)
    return count
