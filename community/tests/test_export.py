"""Excel export of the residents registry: masked, scoped, filtered, constant queries."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from community.models import Resident, ResidentTag
from community.privacy import decrypt_id_number, mask_id_number
from community.tests.factories import HouseholdFactory, ResidentFactory, UnitFactory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_URL = reverse("community:resident-export-xlsx")


def _download(client: Any, user: Any, **params: Any) -> list[list[Any]]:
    client.force_login(user)
    response = client.get(EXPORT_URL, params)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _names(rows: list[list[Any]]) -> set[str]:
    column = rows[0].index("姓名")
    return {row[column] for row in rows[1:]}


def test_export_contains_no_unmasked_phone_or_id_number(
    client: Any, world: Any, staff: Any
) -> None:
    landline = ResidentFactory(household=world.household_a, phone="01065123456", name="座机")
    people = [world.resident_a, world.resident_b, landline]
    secrets = [p.phone for p in people] + [
        decrypt_id_number(p.id_number_ciphertext) for p in people
    ]

    rows = _download(client, staff)

    cells = [str(value) for row in rows for value in row if value is not None]
    for secret in secrets:
        assert not any(secret in cell for cell in cells), secret
    header = rows[0]
    assert "手机号（已脱敏）" in header and "身份证号（已脱敏）" in header
    phone_col, id_col = header.index("手机号（已脱敏）"), header.index("身份证号（已脱敏）")
    by_name = {row[header.index("姓名")]: row for row in rows[1:]}
    a = world.resident_a
    assert by_name[a.name][phone_col] == f"{a.phone[:3]}****{a.phone[-4:]}"
    assert by_name[a.name][id_col] == mask_id_number(decrypt_id_number(a.id_number_ciphertext))


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("staff", {"张建国", "李秀英"}),
        ("street_supervisor", {"张建国", "李秀英", "王芳"}),
        ("grid_worker", {"张建国"}),
        ("property_staff", {"张建国", "李秀英"}),
    ],
)
def test_export_holds_only_the_users_area(
    client: Any, world: Any, persona: str, expected: set[str], request: pytest.FixtureRequest
) -> None:
    assert _names(_download(client, request.getfixturevalue(persona))) == expected


@pytest.mark.parametrize("persona", ["outsider", "resident"])
def test_users_without_registry_access_get_404_on_export(
    client: Any, world: Any, persona: str, request: pytest.FixtureRequest
) -> None:
    client.force_login(request.getfixturevalue(persona))
    assert client.get(EXPORT_URL).status_code == 404
    assert client.get(reverse("community:resident-export")).status_code == 404


def test_export_applies_the_resident_list_filters(client: Any, world: Any, staff: Any) -> None:
    tag = ResidentTag.objects.get(code="party-member")
    world.resident_b.tags.add(tag)
    ResidentFactory(
        household=world.household_a,
        name="迁走的人",
        status=Resident.Status.MOVED_OUT,
        moved_out_on="2024-01-01",
    )

    assert _names(_download(client, staff, building=world.building_a.pk)) == {"张建国", "迁走的人"}
    assert _names(_download(client, staff, grid=world.grid_b.pk)) == {"李秀英"}
    assert _names(_download(client, staff, tag="party-member")) == {"李秀英"}
    assert _names(_download(client, staff, status="moved_out")) == {"迁走的人"}
    assert _names(_download(client, staff, search="李秀")) == {"李秀英"}
    assert _names(_download(client, staff, estate=world.estate.pk)) == {
        "张建国",
        "李秀英",
        "迁走的人",
    }


def test_a_filter_outside_the_users_area_is_refused(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    response = client.get(EXPORT_URL, {"estate": world.other_estate.pk})
    assert response.status_code == 400
    assert "王芳" not in response.content.decode()


def test_export_queries_do_not_grow_with_rows(
    client: Any, world: Any, staff: Any, django_assert_max_num_queries: Any
) -> None:
    tags = list(ResidentTag.objects.all()[:2])
    client.force_login(staff)
    client.get(reverse("community:resident-export"))  # warm the session

    def export_and_count() -> int:
        with django_assert_max_num_queries(8):
            response = client.get(EXPORT_URL)
            rows = load_workbook(
                io.BytesIO(b"".join(response.streaming_content)), read_only=True
            ).worksheets[0]
            return sum(1 for _ in rows.iter_rows()) - 1

    assert export_and_count() == 2
    for i in range(40):
        unit = UnitFactory(building=world.building_a if i % 2 else world.building_b)
        resident = ResidentFactory(household=HouseholdFactory(unit=unit))
        resident.tags.set(tags)
    assert export_and_count() == 42


def test_export_is_an_xlsx_with_a_chinese_file_name(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)

    response = client.get(EXPORT_URL)

    assert response["Content-Type"] == XLSX
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('居民台账_')}" in disposition
    assert 'filename="residents-' in disposition  # ASCII fallback for old clients
    assert response["Cache-Control"] == "no-store"


def test_export_page_counts_the_matching_residents(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)

    response = client.get(reverse("community:resident-export"), {"grid": world.grid_a.pk})

    assert response.status_code == 200
    assert response.context["count"] == 1
    assert f"grid={world.grid_a.pk}" in response.content.decode()
