"""The Excel export: no rebuildable ID, no formulas, no ID number in its URLs."""

from __future__ import annotations

import io
from typing import Any

from django.urls import reverse
from openpyxl import load_workbook

from community.privacy import decrypt_id_number, hash_id_number
from community.tests.factories import ResidentFactory, valid_id_number

PAGE_URL = reverse("community:resident-export")
EXPORT_URL = reverse("community:resident-export-xlsx")


def _sheet(response: Any) -> Any:
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    return load_workbook(io.BytesIO(content)).worksheets[0]


def _rows(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_export_never_holds_the_masked_id_with_the_full_birth_date(
    client: Any, world: Any, staff: Any
) -> None:
    client.force_login(staff)
    rows = _rows(_sheet(client.get(EXPORT_URL)))

    header = rows[0]
    assert "出生年份" in header and "出生日期" not in header
    by_name = {row[header.index("姓名")]: row for row in rows[1:]}
    a = world.resident_a
    assert by_name[a.name][header.index("身份证号（已脱敏）")] == a.id_number_masked
    assert by_name[a.name][header.index("出生年份")] == 1980
    whole = decrypt_id_number(a.id_number_ciphertext)
    cells = [str(value) for row in rows for value in row if value is not None]
    assert not any(whole[6:14] in cell or "1980-05-17" in cell for cell in cells)


def test_text_that_looks_like_a_formula_is_exported_as_text(
    client: Any, world: Any, staff: Any
) -> None:
    ResidentFactory(
        household=world.household_a,
        name='=HYPERLINK("http://evil.example","点")',
        note="+1 电话13912345678 @SUM(A1)",
    )
    ResidentFactory(household=world.household_a, name="-2+3", note="@cmd")
    client.force_login(staff)
    sheet = _sheet(client.get(EXPORT_URL))

    header = [cell.value for cell in sheet[1]]
    name_col, note_col = header.index("姓名"), header.index("备注")
    cells = {}
    for row in sheet.iter_rows(min_row=2):
        cells[row[name_col].value] = (row[name_col], row[note_col])
    name, note = cells['=HYPERLINK("http://evil.example","点")']
    assert name.data_type == "s" and note.data_type == "s"
    assert note.value == "+1 电话139****5678 @SUM(A1)"  # and free text is masked
    name, note = cells["-2+3"]
    assert name.data_type == "s" and note.data_type == "s"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_id_number_typed_into_export_search_is_swapped_for_its_hash(
    client: Any, world: Any, staff: Any
) -> None:
    number = valid_id_number(5151)
    ResidentFactory(household=world.household_b, name="赵敏", id_number=number)
    client.force_login(staff)

    for url in (PAGE_URL, EXPORT_URL):
        response = client.get(url, {"search": number, "status": "active"})
        assert response.status_code == 302
        location = response["Location"]
        assert number not in location
        assert f"idh={hash_id_number(number)}" in location
        assert "status=active" in location

    page = client.get(f"{PAGE_URL}?idh={hash_id_number(number)}")
    assert page.context["count"] == 1
    assert number not in page.content.decode()
    rows = _rows(_sheet(client.get(f"{EXPORT_URL}?idh={hash_id_number(number)}")))
    assert [row[rows[0].index("姓名")] for row in rows[1:]] == ["赵敏"]


def test_id_hash_filter_stays_in_scope(client: Any, world: Any, staff: Any) -> None:
    number = decrypt_id_number(world.other_resident.id_number_ciphertext)
    client.force_login(staff)
    page = client.get(f"{PAGE_URL}?idh={hash_id_number(number)}")
    assert page.context["count"] == 0


def test_malformed_id_hash_is_a_form_error(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    assert client.get(EXPORT_URL, {"idh": "not-a-hash"}).status_code == 400
