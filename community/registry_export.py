"""Writing the residents registry to Excel (台账导出), masked.

Phones and ID numbers leave only masked (138****8000, 110105********0123), and their
headers say so: an export is a copy outside the system's access control (PIPL art. 51).
The birth date leaves as its year only: the 8 hidden digits of a masked ID number are the
birth date, so the two together would rebuild the whole number. Free text is written as
text, never as a formula (a name like "=HYPERLINK(…)" would run in the reader's Excel).
openpyxl's write-only mode streams rows to a temporary file, so memory stays flat
however many residents are exported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import IO, Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from community.models import Resident
from community.privacy import mask_phone, mask_text
from community.registry_import import (
    GENDER_WORDS,
    RELATION_WORDS,
    SHEET_TITLE,
    STATUS_WORDS,
    choice_word,
)


def _address(resident: Resident) -> tuple[Any, ...]:
    household = resident.household
    unit = household.unit
    building = unit.building
    return (building.estate.community.name, building.estate.name, building.number, unit.number)


# (header, width, value). Headers are the file format shared with the import template;
# the masked columns are named so that no one mistakes them for importable values.
EXPORT_COLUMNS: tuple[tuple[str, int, Callable[[Resident], Any]], ...] = (
    ("社区", 12, lambda r: _address(r)[0]),
    ("小区", 16, lambda r: _address(r)[1]),
    ("楼栋", 10, lambda r: _address(r)[2]),
    ("单元", 8, lambda r: _address(r)[3]),
    ("房号", 8, lambda r: r.household.room),
    (
        "网格",
        10,
        lambda r: r.household.unit.building.grid.name if r.household.unit.building.grid else "",
    ),
    ("姓名", 10, lambda r: r.name),
    ("性别", 6, lambda r: choice_word(GENDER_WORDS, r.gender) if r.gender else ""),
    ("出生年份", 8, lambda r: r.birth_date.year if r.birth_date else None),
    ("手机号（已脱敏）", 16, lambda r: mask_phone(r.phone)),
    ("身份证号（已脱敏）", 22, lambda r: r.id_number_masked),
    ("与户主关系", 10, lambda r: choice_word(RELATION_WORDS, r.relation_to_head)),
    ("标签", 16, lambda r: "、".join(tag.name for tag in r.tag_list)),  # type: ignore[attr-defined]
    ("入住日期", 12, lambda r: r.moved_in_on),
    ("迁出日期", 12, lambda r: r.moved_out_on),
    ("状态", 8, lambda r: choice_word(STATUS_WORDS, r.status)),
    ("备注", 20, lambda r: mask_text(r.note)),
)

# What spreadsheet programs read as the start of a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(sheet: Any, value: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        # Stored as a string (openpyxl would write a formula) and quote-prefixed, so that
        # Excel keeps it text even when someone edits the cell.
        cell.data_type = "s"
        cell.quotePrefix = True
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def residents_workbook_write(*, residents: Iterable[Resident], target: IO[bytes]) -> int:
    """Write the residents to `target` as an .xlsx workbook; returns the number of rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    for index, (_header, width, _value) in enumerate(EXPORT_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title, _width, _value in EXPORT_COLUMNS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for resident in residents:
        row = []
        for _title, _width, value in EXPORT_COLUMNS:
            row.append(_cell(sheet, value(resident)))
        sheet.append(row)
        count += 1
    book.save(target)
    return count


def export_file_name(today: dt.date) -> str:
    return f"居民台账_{today:%Y%m%d}.xlsx"


def content_disposition(file_name: str, fallback: str) -> str:
    """An attachment header with an ASCII fallback and the real name per RFC 5987/6266."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"
