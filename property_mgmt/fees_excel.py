"""Fee payments from Excel (缴费台账导入) and the arrears list to Excel (欠费清单导出).

An import checks every row before it writes any: a file with one bad row changes
nothing, and the office fixes the rows named in the report and uploads again. Each row
names its bill by building, unit, room and month; its receipt number makes an import run
twice record each payment once (the unique (bill, receipt) constraint, replayed by
`payment_record`). Exports carry phones masked only (PIPL art. 51).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from community.models import Estate, Membership
from property_mgmt.models import FeeBill, FeePayment
from property_mgmt.selectors.fees import ArrearsRow, bills_visible
from property_mgmt.services.contracts import OFFICE_ROLES
from property_mgmt.services.fees import CENT, payment_record

#: A month of payments of a large estate fits; a bigger file is a mistake or an attack.
MAX_ROWS = 20_000

_BUILDING_SUFFIXES = ("号楼", "栋", "幢", "号", "楼")
_UNIT_SUFFIXES = ("单元", "门")
_ROOM_SUFFIXES = ("室", "号")

#: The words offices write in the method column, per method.
_METHOD_WORDS = {
    FeePayment.Method.CASH: ("cash", "现金"),
    FeePayment.Method.TRANSFER: ("transfer", "bank transfer", "转账", "银行转账"),
    FeePayment.Method.WECHAT: ("wechat", "wechat pay", "微信", "微信支付"),
    FeePayment.Method.ALIPAY: ("alipay", "支付宝"),
}
_METHOD_BY_WORD = {word: method for method, words in _METHOD_WORDS.items() for word in words}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFKC", str(value)).strip()


def address_key(value: Any, suffixes: tuple[str, ...]) -> str:
    """'3号楼', '3栋' and '3' name the same building; '1单元' and '1' the same unit."""
    key = re.sub(r"\s+", "", _text(value)).casefold()
    for suffix in suffixes:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def _month(value: Any) -> dt.date:
    if isinstance(value, dt.datetime | dt.date):
        return dt.date(value.year, value.month, 1)
    text = _text(value)
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?", text)
    if not match:
        raise ValueError(text)
    return dt.date(int(match[1]), int(match[2]), 1)


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(_text(value).replace(",", ""))
    except InvalidOperation:
        raise ValueError(value) from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise ValueError(value)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class PaymentRow:
    """One checked row of the file."""

    number: int
    building: str
    unit: str
    room: str
    period: dt.date
    amount: Decimal
    method: str
    reference: str
    paid_on: dt.date
    bill_id: int = 0
    replay: bool = False


@dataclass
class PaymentImport:
    """What an import did, or why it did nothing (`errors`, one line per bad row)."""

    imported: int = 0
    replayed: int = 0
    errors: list[str] = field(default_factory=list)


def _read(file: str | IO[bytes]) -> list[tuple[int, tuple[Any, ...]]]:
    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise ValidationError(
            _("The file is not an Excel workbook (.xlsx)."), code="file"
        ) from None
    try:
        rows: list[tuple[int, tuple[Any, ...]]] = []
        for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            if number == 1:
                continue  # the header row
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationError(
                    _("The file has more than %(limit)s rows; split it.") % {"limit": MAX_ROWS},
                    code="too_many_rows",
                )
            rows.append((number, tuple(values) + (None,) * 8))
        return rows
    finally:
        book.close()


def _parse(number: int, values: tuple[Any, ...], today: dt.date) -> PaymentRow | str:
    building, unit, room, month, amount, method, reference, paid_on = values[:8]

    def error(message: str) -> str:
        return _("Row %(row)s: %(error)s") % {"row": number, "error": message}

    if not _text(building) or not _text(unit) or not _text(room):
        return error(_("building, unit and room are required."))
    try:
        period = _month(month)
    except ValueError:
        return error(_("the month must be written as YYYY-MM, e.g. 2026-03."))
    try:
        paid_amount = _amount(amount)
    except ValueError:
        return error(_("the amount must be a positive number of yuan with at most 2 decimals."))
    method_code = _METHOD_BY_WORD.get(_text(method).casefold())
    if method_code is None:
        return error(_("the method must be cash, transfer, WeChat or Alipay."))
    receipt = _text(reference)
    if not receipt:
        return error(_("the receipt number is required."))
    if len(receipt) > 64:
        return error(_("the receipt number is longer than 64 characters."))
    try:
        day = _day(paid_on)
    except ValueError:
        return error(_("the paid date must be a date, e.g. 2026-03-15."))
    if day > today:
        return error(_("the paid date is in the future."))
    return PaymentRow(
        number=number,
        building=address_key(building, _BUILDING_SUFFIXES),
        unit=address_key(unit, _UNIT_SUFFIXES),
        room=address_key(room, _ROOM_SUFFIXES),
        period=period,
        amount=paid_amount,
        method=method_code,
        reference=receipt,
        paid_on=day,
    )


def _recordable(actor: Any) -> tuple[bool, set[int], set[int]]:
    """(superuser, providers the actor is property staff of, communities they staff)."""
    if actor.is_superuser:
        return True, set(), set()
    providers: set[int] = set()
    communities: set[int] = set()
    for role, org_id, community_id in Membership.objects.filter(
        user=actor, is_active=True, role__in=[*OFFICE_ROLES, Membership.Role.PROPERTY_STAFF]
    ).values_list("role", "organization_id", "community_id"):
        if role == Membership.Role.PROPERTY_STAFF:
            providers.add(org_id)
        else:
            communities.add(community_id)
    return False, providers, communities


def _match(
    rows: list[PaymentRow], *, actor: Any, estate: Estate | None
) -> tuple[dict[int, Any], list[str]]:
    """Find each row's bill; returns the bills by id and the row errors."""
    bills = bills_visible(actor).filter(period__in=sorted({r.period for r in rows}))
    if estate is not None:
        bills = bills.filter(estate_id=estate.pk)
    found: dict[tuple[str, str, str, dt.date], list[Any]] = defaultdict(list)
    by_id: dict[int, Any] = {}
    for bill in bills.values(
        "id",
        "building__number",
        "household__unit__number",
        "household__room",
        "period",
        "amount",
        "paid_amount",
        "payable_from",
        "contract__provider_id",
        "estate__community_id",
    ):
        key = (
            address_key(bill["building__number"], _BUILDING_SUFFIXES),
            address_key(bill["household__unit__number"], _UNIT_SUFFIXES),
            address_key(bill["household__room"], _ROOM_SUFFIXES),
            bill["period"],
        )
        found[key].append(bill)
        by_id[bill["id"]] = bill
    everything, providers, communities = _recordable(actor)
    errors = []
    for row in rows:
        matches = found.get((row.building, row.unit, row.room, row.period), [])
        if not matches:
            errors.append(
                _("Row %(row)s: no bill for this building, unit and room in %(month)s.")
                % {"row": row.number, "month": f"{row.period:%Y-%m}"}
            )
        elif len(matches) > 1:
            errors.append(
                _(
                    "Row %(row)s: this address matches bills in several estates; import one estate at a time."
                )
                % {"row": row.number}
            )
        else:
            bill = matches[0]
            if not (
                everything
                or bill["contract__provider_id"] in providers
                or bill["estate__community_id"] in communities
            ):
                errors.append(
                    _("Row %(row)s: you may not record payments for this bill.")
                    % {"row": row.number}
                )
            row.bill_id = bill["id"]
    return by_id, errors


def _check_amounts(rows: list[PaymentRow], bills: dict[int, Any]) -> list[str]:
    """Replays pass; new payments must be payable and fit what is outstanding."""
    done = set(
        FeePayment.objects.filter(
            bill_id__in=sorted({r.bill_id for r in rows}),
            reference__in=sorted({r.reference for r in rows}),
        ).values_list("bill_id", "reference")
    )
    errors = []
    seen: set[tuple[int, str]] = set()
    paying: dict[int, Decimal] = defaultdict(Decimal)
    for row in rows:
        key = (row.bill_id, row.reference)
        if key in seen:
            errors.append(
                _("Row %(row)s: the receipt number %(receipt)s appears twice for this bill.")
                % {"row": row.number, "receipt": row.reference}
            )
            continue
        seen.add(key)
        if key in done:
            row.replay = True
            continue
        bill = bills[row.bill_id]
        if bill["payable_from"] is None:
            errors.append(
                _(
                    "Row %(row)s: the bill for %(month)s is not payable yet (serve first, charge after)."
                )
                % {"row": row.number, "month": f"{row.period:%Y-%m}"}
            )
            continue
        paying[row.bill_id] += row.amount
        outstanding = bill["amount"] - bill["paid_amount"]
        if paying[row.bill_id] > outstanding:
            errors.append(
                _("Row %(row)s: the payments add up to more than the %(outstanding)s outstanding.")
                % {"row": row.number, "outstanding": outstanding}
            )
    return errors


def payments_import(
    *, file: str | IO[bytes], actor: Any, now: dt.datetime, estate: Estate | None = None
) -> PaymentImport:
    """Import fee payments from .xlsx: every row checked first, all or nothing, idempotent.

    Columns: building, unit, room, month (YYYY-MM), amount, method, receipt number, paid
    date. `estate` narrows the lookup when the actor serves several estates.
    """
    result = PaymentImport()
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied(_("You may not import payments."))
    today = timezone.localdate(now)
    rows: list[PaymentRow] = []
    for number, values in _read(file):
        parsed = _parse(number, values, today)
        if isinstance(parsed, str):
            result.errors.append(parsed)
        else:
            rows.append(parsed)
    if not rows and not result.errors:
        result.errors.append(_("The file has no payment rows."))
    if result.errors:
        return result
    bills, errors = _match(rows, actor=actor, estate=estate)
    if not errors:
        errors = _check_amounts(rows, bills)
    if errors:
        result.errors = errors
        return result
    tz = timezone.get_current_timezone()
    current = rows[0]
    try:
        with transaction.atomic(durable=True):
            for row in rows:
                current = row
                payment = payment_record(
                    bill=FeeBill(pk=row.bill_id),
                    amount=row.amount,
                    method=row.method,
                    # Noon on the paid day: the receipt has no time, and the day is what
                    # decides whether the bill was paid on time.
                    paid_at=dt.datetime.combine(row.paid_on, dt.time(12), tzinfo=tz),
                    actor=actor,
                    reference=row.reference,
                    source=FeePayment.Source.IMPORT,
                    now=now,
                )
                if getattr(payment, "replayed", False):
                    result.replayed += 1
                else:
                    result.imported += 1
    except (ValidationError, PermissionDenied) as exc:
        # Someone changed a bill between the check and the write: nothing was imported.
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return PaymentImport(
            errors=[_("Row %(row)s: %(error)s") % {"row": current.number, "error": message}]
        )
    return result


def _arrears_columns() -> tuple[tuple[str, int], ...]:
    """(header, width); translated when the file is written."""
    return (
        (_("Building"), 10),
        (_("Unit"), 8),
        (_("Room"), 8),
        (_("Resident"), 12),
        (_("Phone (masked)"), 16),
        (_("Bills overdue"), 12),
        (_("Outstanding (RMB)"), 16),
        (_("Oldest month"), 12),
        (_("Due since"), 12),
    )


def arrears_workbook(rows: Iterable[ArrearsRow]) -> bytes:
    """The arrears list (from `selectors.fees.arrears`) as an .xlsx file; phones masked."""
    columns = _arrears_columns()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Arrears"))
    for index, (_header, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title, _width in columns:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append(
            [
                row.building,
                row.unit,
                row.room,
                row.resident_name,
                row.phone_masked,
                row.bills,
                row.outstanding,
                f"{row.oldest_period:%Y-%m}",
                row.oldest_due_on,
            ]
        )
    target = io.BytesIO()
    book.save(target)
    return target.getvalue()
