"""Excel import of fee payments (all or nothing, idempotent) and the arrears export."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from credit.models import PointsEntry
from property_mgmt.fees_excel import arrears_workbook, payments_import
from property_mgmt.models import FeeBill, FeePayment
from property_mgmt.selectors.fees import arrears
from property_mgmt.services.fees import bills_generate
from property_mgmt.tests.factories_fees import MARCH, NOW, contract_of, install_standard

pytestmark = pytest.mark.django_db

HEADER = ["楼栋", "单元", "房号", "月份", "金额", "缴费方式", "收据号", "缴费日期"]


def _file(rows: list[list[Any]]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    return data


def _row(household: Any, amount: str, receipt: str, **kwargs: Any) -> list[Any]:
    unit = household.unit
    return [
        kwargs.get("building", unit.building.number),
        kwargs.get("unit", unit.number),
        kwargs.get("room", household.room),
        kwargs.get("month", "2026-03"),
        kwargs.get("amount", amount),
        kwargs.get("method", "现金"),
        receipt,
        kwargs.get("paid", dt.date(2026, 3, 4)),
    ]


@pytest.fixture
def billed(world: Any, staff: Any) -> None:
    install_standard(world)
    bills_generate(contract=contract_of(world), period=MARCH, now=NOW, actor=staff)


def test_import_records_payments_and_a_second_run_changes_nothing(
    world: Any, billed: None, property_staff: Any
) -> None:
    rows = [
        _row(world.household_a, "120.00", "S-001"),
        _row(world.household_b, "50", "S-002", method="微信", month="2026年3月"),
    ]
    result = payments_import(file=_file(rows), actor=property_staff, now=NOW)
    assert (result.errors, result.imported, result.replayed) == ([], 2, 0)
    a = FeeBill.objects.get(household=world.household_a)
    b = FeeBill.objects.get(household=world.household_b)
    assert a.paid_amount == Decimal("120.00") and a.paid_at is not None
    assert b.paid_amount == Decimal("50.00")
    assert set(FeePayment.objects.values_list("source", flat=True)) == {"import"}
    assert PointsEntry.objects.filter(idempotency_key=f"fee-paid:{a.pk}").count() == 1

    again = payments_import(file=_file(rows), actor=property_staff, now=NOW)
    assert (again.errors, again.imported, again.replayed) == ([], 0, 2)
    assert FeePayment.objects.count() == 2
    b.refresh_from_db()
    assert b.paid_amount == Decimal("50.00")


def test_building_and_unit_may_be_written_with_or_without_suffixes(
    world: Any, billed: None, staff: Any
) -> None:
    household = world.household_a
    number = household.unit.building.number.removesuffix("号楼")  # factory: "3号楼"
    row = _row(household, "120", "S-9", building=f" {number}栋 ", unit=household.unit.number)
    result = payments_import(file=_file([row]), actor=staff, now=NOW)
    assert result.errors == [] and result.imported == 1


def test_one_bad_row_imports_nothing_and_names_the_rows(
    world: Any, billed: None, property_staff: Any
) -> None:
    rows = [
        _row(world.household_a, "120.00", "S-001"),
        _row(world.household_b, "abc", "S-002"),
        _row(world.household_b, "10", "S-003", month="March"),
        _row(world.household_b, "10", "S-004", method="IOU"),
        _row(world.household_b, "10", "S-005", room="9999"),
    ]
    result = payments_import(file=_file(rows), actor=property_staff, now=NOW)
    assert result.imported == 0
    # Rows 3, 4 and 5 (row 1 is the header): each error names its row.
    assert len(result.errors) == 3
    assert all(str(n) in e for n, e in zip((3, 4, 5), result.errors, strict=True))
    assert not FeePayment.objects.exists()
    # Once the format errors are fixed, the unknown room is reported by its row.
    fixed = [rows[0], _row(world.household_b, "10", "S-005", room="9999")]
    result = payments_import(file=_file(fixed), actor=property_staff, now=NOW)
    assert len(result.errors) == 1 and "3" in result.errors[0]
    assert not FeePayment.objects.exists()


def test_rows_adding_up_to_more_than_the_bill_import_nothing(
    world: Any, billed: None, property_staff: Any
) -> None:
    rows = [
        _row(world.household_a, "100", "S-1"),
        _row(world.household_a, "30", "S-2"),
    ]
    result = payments_import(file=_file(rows), actor=property_staff, now=NOW)
    assert len(result.errors) == 1 and "3" in result.errors[0]
    assert not FeePayment.objects.exists()


def test_another_company_cannot_import_payments_for_this_estate(
    world: Any, billed: None, outsider: Any
) -> None:
    result = payments_import(
        file=_file([_row(world.household_a, "120", "S-1")]), actor=outsider, now=NOW
    )
    assert result.errors and result.imported == 0
    assert not FeePayment.objects.exists()


def test_a_file_that_is_not_excel_is_refused(world: Any, staff: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        payments_import(file=io.BytesIO(b"not a workbook"), actor=staff, now=NOW)


def test_arrears_workbook_has_a_header_widths_and_masked_phones(
    world: Any, billed: None, staff: Any
) -> None:
    rows = arrears(user=staff, estate=world.estate, as_of=dt.date(2026, 5, 1))
    assert len(rows) == 2
    sheet = load_workbook(io.BytesIO(arrears_workbook(rows))).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 3
    assert values[0][0] and sheet.column_dimensions["E"].width == 16
    phones = {row[4] for row in values[1:]}
    full = {world.resident_a.phone, world.resident_b.phone}
    assert phones == {f"{p[:3]}****{p[-4:]}" for p in full}
    assert not phones & full
