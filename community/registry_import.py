"""Reading a residents registry workbook (居民台账): its columns, cells and rows.

Nothing here writes. `services.import_job_check` (the preview) and
`services.residents_import_apply` both run the rows through `RowChecker`, so what the
preview promises is exactly what the apply does.

The header row is a file format, not UI text: the template carries fixed Chinese
headers (offices exchange these files), and English equivalents are accepted too.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation

from community.models import Building, Estate, Household, Resident, ResidentTag, Unit
from community.privacy import (
    birth_date_from_id,
    gender_from_id,
    hash_id_number,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    validate_id_number,
)
from community.scoping import scope_filter


def max_rows() -> int:
    return int(getattr(settings, "LINLI_IMPORT_MAX_ROWS", 50_000))


def max_bytes() -> int:
    return int(getattr(settings, "LINLI_IMPORT_MAX_BYTES", 10 * 1024 * 1024))


SHEET_TITLE = "居民台账"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    width: int = 12


COLUMNS: tuple[Column, ...] = (
    Column("estate", "小区", ("estate", "小区名称"), required=True, width=16),
    Column("building", "楼栋", ("building", "楼号", "楼栋号"), required=True, width=10),
    Column("unit", "单元", ("unit", "单元号"), required=True, width=8),
    Column("room", "房号", ("room", "房间号", "门牌号"), required=True, width=8),
    Column("name", "姓名", ("name",), required=True, width=10),
    Column("gender", "性别", ("gender", "sex"), width=6),
    Column("birth_date", "出生日期", ("birth date", "date of birth", "birthday"), width=12),
    Column("phone", "手机号", ("phone", "mobile", "联系电话", "电话"), width=14),
    Column(
        "id_number",
        "身份证号",
        ("id number", "身份证号码", "公民身份号码"),
        required=True,
        width=22,
    ),
    Column("relation", "与户主关系", ("relation to head", "relation"), width=10),
    Column("tags", "标签", ("tags",), width=16),
    Column("moved_in_on", "入住日期", ("moved in on", "move-in date"), width=12),
    Column("moved_out_on", "迁出日期", ("moved out on", "move-out date"), width=12),
    Column("status", "状态", ("status", "居住状态"), width=8),
    Column("note", "备注", ("note",), width=20),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}

# The words a registry uses for each choice; the first is what templates and exports
# write. Codes and the English labels are accepted as well.
GENDER_WORDS: dict[str, tuple[str, ...]] = {
    Resident.Gender.MALE: ("男", "男性", "m"),
    Resident.Gender.FEMALE: ("女", "女性", "f"),
}
RELATION_WORDS: dict[str, tuple[str, ...]] = {
    Resident.Relation.HEAD: ("户主", "本人"),
    Resident.Relation.SPOUSE: ("配偶", "妻", "妻子", "夫", "丈夫"),
    Resident.Relation.CHILD: ("子女", "子", "女", "儿子", "女儿", "长子", "长女", "次子", "次女"),
    Resident.Relation.PARENT: ("父母", "父亲", "母亲", "父", "母"),
    Resident.Relation.GRANDCHILD: ("孙子女", "孙子", "孙女", "外孙", "外孙女"),
    Resident.Relation.GRANDPARENT: ("祖父母", "祖父", "祖母", "外祖父", "外祖母"),
    Resident.Relation.SIBLING: ("兄弟姐妹", "兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹"),
    Resident.Relation.TENANT: ("租户", "租客"),
    Resident.Relation.OTHER: ("其他",),
}
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    Resident.Status.ACTIVE: ("在住", "居住", "现住", "常住"),
    Resident.Status.MOVED_OUT: ("迁出", "已迁出"),
    Resident.Status.DECEASED: ("去世", "已故", "死亡"),
}
TAG_SEPARATORS = re.compile(r"[、,，;；/\s]+")


def choice_word(words: dict[str, tuple[str, ...]], value: str) -> str:
    """The registry word for a stored choice: 'male' -> '男'."""
    return words[value][0] if value in words else value


# ---------------------------------------------------------------------------------------
# Problems found in a file or a row. Stored as codes with parameters (never a whole ID
# number), turned into sentences in the reader's language when shown.

ERROR_MESSAGES: dict[str, Any] = {
    "file_unreadable": _("The file could not be read as an Excel workbook (.xlsx)."),
    "file_empty": _("The workbook has no header row."),
    "no_rows": _("The workbook has no residents below the header row."),
    "too_many_rows": _("The file has more than %(limit)s rows. Split it into smaller files."),
    "missing_columns": _("Required columns are missing: %(columns)s."),
    "duplicate_column": _("The column %(column)s appears more than once."),
    "required": _("%(column)s is required."),
    "too_long": _("%(column)s is longer than %(limit)s characters."),
    "unknown_estate": _("No estate named “%(value)s” in your area."),
    "ambiguous_estate": _("More than one estate in your area is named “%(value)s”."),
    "unknown_building": _("No building “%(value)s” in estate “%(estate)s” in your area."),
    "id_shape": _("An ID number has 17 digits and a final digit or X."),
    "id_date": _("The birth date in the ID number is not a real date."),
    "id_checksum": _("The ID number's check digit is wrong."),
    "id_numeric": _(
        "The ID number was stored as a number and lost digits: format the column as text "
        "and enter it again."
    ),
    "id_duplicate_in_file": _("The same ID number is already in row %(other)s."),
    "id_outside_scope": _(
        "A resident with this ID number is registered outside your area. Ask the office "
        "that keeps that record."
    ),
    "bad_phone": _("Enter a mobile number or a landline with area code."),
    "bad_date": _("%(column)s: “%(value)s” is not a date (write it like 2024-03-01)."),
    "future_date": _("%(column)s is in the future."),
    "unknown_choice": _("%(column)s: “%(value)s” is not one of %(choices)s."),
    "unknown_tag": _("Unknown tag “%(value)s”."),
    "moved_out_before_in": _("The move-out date is before the move-in date."),
    "invalid_record": _("The record was refused: %(message)s"),
    "unexpected": _("The import stopped at an unexpected error. Nothing was saved."),
}


@dataclass(frozen=True)
class RowError:
    """One reason a row (or, with row None, the whole file) cannot be imported."""

    row: int | None
    code: str
    column: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "params": self.params}


def error_message(entry: dict[str, Any]) -> str:
    """The sentence for a stored error entry, in the active language."""
    template = ERROR_MESSAGES.get(entry.get("code", ""), ERROR_MESSAGES["unexpected"])
    params = {"column": entry.get("column", ""), **(entry.get("params") or {})}
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


class WorkbookError(Exception):
    """The file as a whole cannot be imported (not a workbook, columns missing, too big)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.error = RowError(row=None, code=code, params=params)


# ---------------------------------------------------------------------------------------
# Progress of a running job. The apply runs in one transaction, so its progress cannot be
# a database column (nobody else would see it before commit): it goes to the cache.

PROGRESS_TIMEOUT = 6 * 60 * 60


def progress_key(job_id: int) -> str:
    return f"linli:resident-import:{job_id}:progress"


def progress_set(job_id: int, *, phase: str, done: int, total: int | None) -> None:
    cache.set(
        progress_key(job_id), {"phase": phase, "done": done, "total": total}, PROGRESS_TIMEOUT
    )


def progress_get(job_id: int) -> dict[str, Any] | None:
    value = cache.get(progress_key(job_id))
    return value if isinstance(value, dict) else None


# ---------------------------------------------------------------------------------------
# Reading the workbook.


def _header_key(text: Any) -> str:
    value = unicodedata.normalize("NFKC", str(text or ""))
    value = re.sub(r"\(.*?\)", "", value).replace("*", "")
    return re.sub(r"\s+", " ", value).strip().casefold()


_HEADER_INDEX = {
    _header_key(alias): column.key
    for column in COLUMNS
    for alias in (column.header, column.key, *column.aliases)
}


class RegistryWorkbook:
    """The first sheet of an uploaded registry: which column is which, and its data rows."""

    def __init__(self, path: Path | str) -> None:
        try:
            self._book = load_workbook(path, read_only=True, data_only=True)
            sheet = self._book.worksheets[0]
        except Exception:  # openpyxl raises many kinds for a damaged or foreign file
            raise WorkbookError("file_unreadable") from None
        max_row = sheet.max_row
        self.total_hint: int | None = max(max_row - 1, 0) if max_row else None
        self._rows = sheet.iter_rows(values_only=True)
        header = next(self._rows, None)
        if header is None:
            self.close()
            raise WorkbookError("file_empty")
        self.columns: dict[int, str] = {}
        for index, cell in enumerate(header):
            key = _HEADER_INDEX.get(_header_key(cell))
            if key is None:
                continue  # extra columns (序号, 备用 …) are ignored
            if key in self.columns.values():
                self.close()
                raise WorkbookError("duplicate_column", column=COLUMN_BY_KEY[key].header)
            self.columns[index] = key
        missing = [c.header for c in COLUMNS if c.required and c.key not in self.columns.values()]
        if missing:
            self.close()
            raise WorkbookError("missing_columns", columns="、".join(missing))

    def __enter__(self) -> RegistryWorkbook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._book.close()

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(Excel row number, {column key: cell value}) for each non-blank row."""
        limit = max_rows()
        count = 0
        for number, values in enumerate(self._rows, start=2):
            cells = {
                key: values[index] for index, key in self.columns.items() if index < len(values)
            }
            if all(_is_blank(v) for v in cells.values()):
                continue
            count += 1
            if count > limit:
                raise WorkbookError("too_many_rows", limit=limit)
            yield number, cells


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def _date(value: Any) -> dt.date:
    """A cell as a date; raises ValueError for anything that is not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20_000_000 <= value <= 30_000_000:  # 20240301 typed as a number
            return dt.datetime.strptime(str(int(value)), "%Y%m%d").date()
        if 1 <= value < 100_000:  # an Excel serial date without a date format
            converted = from_excel(value)
            if isinstance(converted, dt.datetime):
                return converted.date()
        raise ValueError(value)
    text = _text(value)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _address_key(value: str, suffixes: tuple[str, ...]) -> str:
    """'3号楼', '3栋' and '3' name the same building; '1单元' and '1' the same unit."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).casefold()
    for suffix in suffixes:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


_BUILDING_SUFFIXES = ("号楼", "栋", "幢", "号", "楼")
_UNIT_SUFFIXES = ("单元", "门")
_ROOM_SUFFIXES = ("室", "号")


def _clean_phone(raw: str) -> str:
    # Imported here, not at the top: services imports this module.
    from community.services import clean_resident_phone

    return clean_resident_phone(raw)


# ---------------------------------------------------------------------------------------
# Checking rows.


@dataclass
class CheckedRow:
    """A row that may be imported, resolved against the registry."""

    row: int
    building: Building
    unit_number: str
    unit: Unit | None
    room: str
    household: Household | None
    name: str
    id_number: str
    id_hash: str
    # Model fields the file gives for this resident; an empty cell is not here, so an
    # update keeps the stored value.
    fields: dict[str, Any]
    tags: list[ResidentTag] | None
    resident_id: int | None = None

    @property
    def unit_key(self) -> tuple[int, str]:
        return (self.building.pk, _address_key(self.unit_number, _UNIT_SUFFIXES))

    @property
    def household_key(self) -> tuple[int, str, str]:
        return (*self.unit_key, _address_key(self.room, _ROOM_SUFFIXES))

    def fields_for_new_resident(self) -> dict[str, Any]:
        """The fields to register a new resident with: the ID number fills in a missing
        birth date and gender (GB 11643 encodes both)."""
        fields = dict(self.fields)
        fields.setdefault("birth_date", birth_date_from_id(self.id_number))
        fields.setdefault("gender", gender_from_id(self.id_number))
        return fields

    def address(self, *, with_room: bool = True) -> str:
        parts = [self.building.estate.name, self.building.number, self.unit_number]
        if with_room:
            parts.append(self.room)
        return " ".join(parts)

    def preview(self) -> dict[str, Any]:
        """What the preview page shows of this row: masked, never the whole ID number."""
        return {
            "row": self.row,
            "address": self.address(),
            "name": self.name,
            "id_masked": mask_id_number(self.id_number),
            "phone_masked": mask_phone(self.fields.get("phone", "")),
            "action": "update" if self.resident_id else "new",
            "new_household": self.household is None,
        }


class RowChecker:
    """Checks rows against the part of the registry the user may change (their edit
    scope: what they merely see, e.g. their own household elsewhere, is not theirs to
    import into), with caches so that a file costs a few queries per building and per
    chunk, not per row."""

    def __init__(self, *, user: Any) -> None:
        self.user = user
        self._estates: dict[str, list[Estate]] = defaultdict(list)
        for estate in scope_filter(Estate.objects.all(), user, edit=True).order_by("id"):
            self._estates[_text(estate.name).casefold()].append(estate)
        self._buildings: dict[int, dict[str, Building]] = {}
        self._units: dict[int, dict[str, Unit]] = {}
        self._households: dict[int, dict[str, Household]] = {}
        self._tags: dict[str, ResidentTag] = {}
        for tag in ResidentTag.objects.order_by("id"):
            self._tags.setdefault(_text(tag.name).casefold(), tag)
            self._tags.setdefault(tag.code.casefold(), tag)
        self._seen_ids: dict[str, int] = {}
        self.new_units: dict[tuple[int, str], str] = {}
        self.new_households: dict[tuple[int, str, str], str] = {}

    # Addresses -------------------------------------------------------------------------

    def _building(self, estate: Estate, number: str) -> Building | None:
        if estate.pk not in self._buildings:
            found = scope_filter(Building.objects.filter(estate=estate), self.user, edit=True)
            self._buildings[estate.pk] = {
                _address_key(b.number, _BUILDING_SUFFIXES): b
                for b in found.select_related("estate").order_by("id")
            }
        return self._buildings[estate.pk].get(_address_key(number, _BUILDING_SUFFIXES))

    def _load_building(self, building: Building) -> None:
        if building.pk in self._units:
            return
        units = list(Unit.objects.filter(building=building).order_by("id"))
        self._units[building.pk] = {_address_key(u.number, _UNIT_SUFFIXES): u for u in units}
        for unit in units:
            self._households[unit.pk] = {}
        for household in Household.objects.filter(unit__building=building).order_by("id"):
            rooms = self._households[household.unit_id]
            rooms[_address_key(household.room, _ROOM_SUFFIXES)] = household

    def unit_for(self, building: Building, number: str) -> Unit | None:
        self._load_building(building)
        return self._units[building.pk].get(_address_key(number, _UNIT_SUFFIXES))

    def household_for(self, unit: Unit | None, room: str) -> Household | None:
        if unit is None:
            return None
        return self._households.get(unit.pk, {}).get(_address_key(room, _ROOM_SUFFIXES))

    def remember_unit(self, unit: Unit) -> None:
        """A unit created while applying: later rows find it instead of creating another."""
        self._load_building(unit.building)
        self._units[unit.building_id][_address_key(unit.number, _UNIT_SUFFIXES)] = unit
        self._households.setdefault(unit.pk, {})

    def remember_household(self, household: Household) -> None:
        rooms = self._households.setdefault(household.unit_id, {})
        rooms[_address_key(household.room, _ROOM_SUFFIXES)] = household

    # Rows ------------------------------------------------------------------------------

    def check(
        self, rows: list[tuple[int, dict[str, Any]]]
    ) -> tuple[list[CheckedRow], list[RowError]]:
        """Check a chunk of rows: the importable ones, and every reason the others are not."""
        checked: list[CheckedRow] = []
        errors: list[RowError] = []
        for number, cells in rows:
            result = self._check_row(number, cells)
            if isinstance(result, CheckedRow):
                checked.append(result)
            else:
                errors.extend(result)
        # Upsert by ID number: one query for the chunk finds who exists, one more which
        # of them this user may change. A resident kept by another office is not moved.
        digests = [row.id_hash for row in checked]
        existing = dict(
            Resident.objects.filter(id_number_hash__in=digests).values_list("id_number_hash", "pk")
        )
        visible = set(
            scope_filter(
                Resident.objects.filter(pk__in=existing.values()), self.user, edit=True
            ).values_list("pk", flat=True)
        )
        importable: list[CheckedRow] = []
        for row in checked:
            pk = existing.get(row.id_hash)
            if pk is not None and pk not in visible:
                errors.append(
                    RowError(row.row, "id_outside_scope", COLUMN_BY_KEY["id_number"].header)
                )
                continue
            row.resident_id = pk
            if row.unit is None:
                self.new_units.setdefault(row.unit_key, row.address(with_room=False))
            if row.household is None:
                self.new_households.setdefault(row.household_key, row.address())
            importable.append(row)
        return importable, errors

    def _check_row(self, number: int, cells: dict[str, Any]) -> CheckedRow | list[RowError]:
        errors: list[RowError] = []

        def fail(key: str, code: str, **params: Any) -> None:
            errors.append(RowError(number, code, COLUMN_BY_KEY[key].header, params))

        def text(key: str, limit: int) -> str:
            value = _text(cells.get(key))
            if COLUMN_BY_KEY[key].required and not value:
                fail(key, "required")
            elif len(value) > limit:
                fail(key, "too_long", limit=limit)
            return value

        estate_name = text("estate", 100)
        building_number = text("building", 20)
        unit_number = text("unit", 20)
        room = text("room", 20)
        name = text("name", 50)

        building: Building | None = None
        if estate_name:
            estates = self._estates.get(estate_name.casefold(), [])
            if not estates:
                fail("estate", "unknown_estate", value=estate_name)
            elif len(estates) > 1:
                fail("estate", "ambiguous_estate", value=estate_name)
            elif building_number:
                building = self._building(estates[0], building_number)
                if building is None:
                    fail("building", "unknown_building", value=building_number, estate=estate_name)
        unit = self.unit_for(building, unit_number) if building and unit_number else None
        household = self.household_for(unit, room)

        id_number, digest = self._id_number(cells.get("id_number"), fail, number)
        fields: dict[str, Any] = {}
        for key, field_name, words in (
            ("gender", "gender", GENDER_WORDS),
            ("relation", "relation_to_head", RELATION_WORDS),
            ("status", "status", STATUS_WORDS),
        ):
            raw = _text(cells.get(key))
            if raw:
                value = _choice(raw, words)
                if value is None:
                    choices = "、".join(w[0] for w in words.values())
                    fail(key, "unknown_choice", value=raw[:30], choices=choices)
                else:
                    fields[field_name] = value
        for key in ("birth_date", "moved_in_on", "moved_out_on"):
            raw_value = cells.get(key)
            if _is_blank(raw_value):
                continue
            try:
                day = _date(raw_value)
            except (ValueError, OverflowError):
                fail(key, "bad_date", value=_text(raw_value)[:30])
                continue
            if key == "birth_date" and day > dt.date.today():
                fail(key, "future_date")
                continue
            fields[key] = day
        if (
            fields.get("moved_in_on")
            and fields.get("moved_out_on")
            and fields["moved_out_on"] < fields["moved_in_on"]
        ):
            fail("moved_out_on", "moved_out_before_in")
        raw_phone = _text(cells.get("phone"))
        if raw_phone:
            try:
                fields["phone"] = _clean_phone(raw_phone)
            except ValidationError:
                fail("phone", "bad_phone")
        note = text("note", 200)
        if note:
            fields["note"] = note
        tags = self._tag_list(_text(cells.get("tags")), fail)

        if errors or building is None or not id_number:
            return errors
        return CheckedRow(
            row=number,
            building=building,
            unit_number=unit_number,
            unit=unit,
            room=room,
            household=household,
            name=name,
            id_number=id_number,
            id_hash=digest,
            fields=fields,
            tags=tags,
        )

    def _id_number(self, raw: Any, fail: Any, number: int) -> tuple[str, str]:
        if _is_blank(raw):
            fail("id_number", "required")
            return "", ""
        if isinstance(raw, float):
            fail("id_number", "id_numeric")
            return "", ""
        value = normalize_id_number(_text(raw))
        try:
            validate_id_number(value)
        except ValidationError as exc:
            fail("id_number", exc.code if exc.code in ERROR_MESSAGES else "id_shape")
            return "", ""
        digest = hash_id_number(value)
        first = self._seen_ids.setdefault(digest, number)
        if first != number:
            fail("id_number", "id_duplicate_in_file", other=first)
            return "", ""
        return value, digest

    def _tag_list(self, raw: str, fail: Any) -> list[ResidentTag] | None:
        if not raw:
            return None
        tags: list[ResidentTag] = []
        for word in TAG_SEPARATORS.split(raw):
            if not word:
                continue
            tag = self._tags.get(word.casefold())
            if tag is None:
                fail("tags", "unknown_tag", value=word[:30])
            elif tag not in tags:
                tags.append(tag)
        return tags


def _choice(raw: str, words: dict[str, tuple[str, ...]]) -> str | None:
    wanted = raw.strip().casefold()
    for value, synonyms in words.items():
        candidates = {value, *synonyms}
        if wanted in {c.casefold() for c in candidates}:
            return value
    # The label in the reader's language ("living here", or its translation).
    labels = dict(Resident.Gender.choices + Resident.Relation.choices + Resident.Status.choices)
    for value in words:
        if str(labels.get(value, "")).casefold() == wanted:
            return value
    return None


# ---------------------------------------------------------------------------------------
# The template to fill in.


def template_workbook() -> bytes:
    """An empty registry workbook: the header row, drop-down lists, and instructions."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_TITLE
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        if column.required:
            cell.fill = required_fill
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.key in ("id_number", "phone", "room", "unit", "building"):
            # Text, so Excel keeps all 18 digits and leading zeros.
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    last = max_rows() + 1
    for key, words in (
        ("gender", GENDER_WORDS),
        ("relation", RELATION_WORDS),
        ("status", STATUS_WORDS),
    ):
        letter = get_column_letter([c.key for c in COLUMNS].index(key) + 1)
        listing = ",".join(w[0] for w in words.values())
        validation = DataValidation(type="list", formula1=f'"{listing}"', allow_blank=True)
        validation.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(validation)

    notes = book.create_sheet(gettext("Instructions"))
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 90
    required = "、".join(c.header for c in COLUMNS if c.required)
    lines: list[tuple[str, str]] = [
        (gettext("How to fill in"), gettext("One resident per row on the first sheet.")),
        ("", gettext("Row 1 is the header row: keep it as it is.")),
        ("", gettext("Required columns: %(columns)s.") % {"columns": required}),
        (
            "",
            gettext(
                "The estate and building must already be in the registry. A unit or room "
                "that is not there yet is created by the import."
            ),
        ),
        (
            "",
            gettext(
                "Residents are matched by ID number: a known number updates that resident, "
                "a new number registers a new resident. Empty cells keep what is stored."
            ),
        ),
        ("", gettext("Dates like 2024-03-01. Several tags: separate them with 、")),
        (
            "",
            gettext("At most %(rows)s rows and %(size)s MB per file.")
            % {"rows": max_rows(), "size": max_bytes() // (1024 * 1024)},
        ),
        ("", ""),
        (gettext("Allowed values"), ""),
        (COLUMN_BY_KEY["gender"].header, "、".join(w[0] for w in GENDER_WORDS.values())),
        (COLUMN_BY_KEY["relation"].header, "、".join(w[0] for w in RELATION_WORDS.values())),
        (COLUMN_BY_KEY["status"].header, "、".join(w[0] for w in STATUS_WORDS.values())),
        (
            COLUMN_BY_KEY["tags"].header,
            "、".join(t.name for t in ResidentTag.objects.order_by("id")),
        ),
    ]
    for line in lines:
        notes.append(line)
        notes.cell(row=notes.max_row, column=1).font = Font(bold=True)
        notes.cell(row=notes.max_row, column=2).alignment = Alignment(wrap_text=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
