"""Points per resident (积分台账) and redemptions (兑换台账) as Excel workbooks, masked.

Phones leave only masked (138****8000) and the header says so: an export is a copy
outside the system's access control (PIPL art. 51). openpyxl's write-only mode streams
rows to the target, so memory stays flat however many residents are exported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from accounts.phone import mask_phone
from community.models import Resident
from credit.models import Redemption
from credit.selectors.supermarket import local


def _building(r: Resident) -> Any:
    return r.household.unit.building


def _columns() -> tuple[tuple[str, int, Callable[[Resident], Any]], ...]:
    """(header, width, value); headers translated when the file is written."""
    return (
        (_("Community"), 12, lambda r: _building(r).estate.community.name),
        (_("Estate"), 16, lambda r: _building(r).estate.name),
        (_("Building"), 10, lambda r: _building(r).number),
        (_("Unit"), 8, lambda r: r.household.unit.number),
        (_("Room"), 8, lambda r: r.household.room),
        (_("Name"), 10, lambda r: r.name),
        (_("Phone (masked)"), 16, lambda r: mask_phone(r.phone)),
        (_("Status"), 10, lambda r: r.get_status_display()),
        (_("Balance"), 10, lambda r: r.balance),
        (_("Earned"), 10, lambda r: r.earned),
        (_("Deducted"), 10, lambda r: r.deducted),
        (_("Spent at the supermarket"), 14, lambda r: r.spent),
    )


def points_workbook_write(*, residents: Iterable[Resident], target: IO[bytes]) -> int:
    """Write residents (from `points_per_resident`) to `target` as .xlsx; returns rows."""
    columns = _columns()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Points"))
    for index, (_header, width, _value) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title, _width, _value in columns:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for resident in residents:
        sheet.append([value(resident) for _title, _width, value in columns])
        count += 1
    book.save(target)
    return count


def export_file_name(today: Any) -> str:
    return _("points-ledger_%(date)s.xlsx") % {"date": f"{today:%Y%m%d}"}


# --- Redemptions (兑换台账) -------------------------------------------------------------

# What spreadsheet programs read as the start of a formula (OWASP "CSV injection"), as in
# community.registry_export: an item or resident name like "=HYPERLINK(…)" stays text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(sheet: Any, value: Any) -> WriteOnlyCell:
    if isinstance(value, dt.datetime):
        # Excel has no time zones: the community's wall clock, as on the desk's slips.
        value = local(value).replace(tzinfo=None)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        # Stored as a string (openpyxl would write a formula) and quote-prefixed, so that
        # Excel keeps it text even when someone edits the cell.
        cell.data_type = "s"
        cell.quotePrefix = True
    elif isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    return cell


def _home(r: Redemption) -> str:
    household = r.resident.household
    unit = household.unit
    return f"{unit.building.estate.name} {unit.building.number} {unit.number} {household.room}"


def _redemption_columns() -> tuple[tuple[str, int, Callable[[Redemption], Any]], ...]:
    """(header, width, value); headers translated when the file is written."""
    return (
        (_("Date"), 17, lambda r: r.reserved_at),
        (_("Resident"), 10, lambda r: r.resident.name),
        (_("Building / room"), 24, _home),
        (_("Phone (masked)"), 16, lambda r: mask_phone(r.resident.phone)),
        (_("Item"), 18, lambda r: r.item.name),
        (_("Quantity"), 8, lambda r: r.quantity),
        (_("Points"), 8, lambda r: r.points),
        (_("Status"), 14, lambda r: r.get_status_display()),
        (_("Picked up at"), 17, lambda r: r.fulfilled_at),
        (_("Handed over by"), 12, lambda r: r.fulfilled_by.name if r.fulfilled_by else ""),
    )


def redemptions_workbook_write(*, redemptions: Iterable[Redemption], target: IO[bytes]) -> int:
    """Write redemptions (from `redemptions_ledger`) to `target` as .xlsx; returns rows."""
    columns = _redemption_columns()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Redemptions"))
    for index, (_header, width, _value) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title, _width, _value in columns:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for redemption in redemptions:
        sheet.append([_cell(sheet, value(redemption)) for _title, _width, value in columns])
        count += 1
    book.save(target)
    return count


def redemptions_file_name(start: dt.date, end: dt.date) -> str:
    return _("redemptions_%(start)s-%(end)s.xlsx") % {
        "start": f"{start:%Y%m%d}",
        "end": f"{end:%Y%m%d}",
    }
