"""Points per resident as an Excel workbook (积分台账), masked.

Phones leave only masked (138****8000) and the header says so: an export is a copy
outside the system's access control (PIPL art. 51). openpyxl's write-only mode streams
rows to the target, so memory stays flat however many residents are exported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from accounts.phone import mask_phone
from community.models import Resident


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
