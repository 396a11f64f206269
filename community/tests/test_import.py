"""Excel import of the residents registry: preview, all-or-nothing apply, scope, progress."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from community import registry_import, services
from community.models import Household, ImportJob, Resident, Unit
from community.privacy import birth_date_from_id, decrypt_id_number, gender_from_id
from community.services import imports as import_services
from community.tests.factories import MembershipFactory, ResidentFactory, UserFactory
from community.tests.factories import valid_id_number as make_id

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = [
    "小区",
    "楼栋",
    "单元",
    "房号",
    "姓名",
    "性别",
    "出生日期",
    "手机号",
    "身份证号",
    "与户主关系",
    "标签",
    "入住日期",
    "状态",
]
IMPORT_URL = reverse("community:resident-import")


@pytest.fixture(autouse=True)
def private_root(settings: Any, tmp_path: Path, client: Any) -> Path:
    settings.PRIVATE_STORAGE_ROOT = tmp_path
    cache.clear()  # job ids repeat between tests; their progress must not
    client.cookies["django_language"] = "en"  # assertions read the English msgids
    return tmp_path


def _xlsx(rows: list[dict[str, Any]], header: list[str] = HEADER, name: str = "台账.xlsx") -> Any:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column) for column in header])
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX)


def _row(world: Any, **cells: Any) -> dict[str, Any]:
    row = {
        "小区": world.estate.name,
        "楼栋": world.building_a.number,
        "单元": world.household_a.unit.number,
        "房号": world.household_a.room,
        "姓名": "赵六",
        "性别": "男",
        "出生日期": "1980-05-17",
        "手机号": "13912345678",
        "身份证号": make_id(8001),
        "与户主关系": "户主",
        "标签": "",
        "入住日期": "2020-01-01",
        "状态": "在住",
    }
    row.update(cells)
    return row


def _upload(client: Any, capture: Any, user: Any, rows: list[dict[str, Any]]) -> ImportJob:
    client.force_login(user)
    with capture(execute=True):
        response = client.post(IMPORT_URL, {"file": _xlsx(rows)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def _confirm(client: Any, capture: Any, job: ImportJob) -> ImportJob:
    with capture(execute=True):
        response = client.post(reverse("community:resident-import-confirm", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    return job


def _codes(job: ImportJob) -> set[tuple[int | None, str]]:
    return {(e["row"], e["code"]) for e in job.errors}


def test_bad_rows_are_listed_with_row_numbers_and_reasons(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any
) -> None:
    good_id = make_id(8101)
    rows = [
        _row(world, 身份证号=good_id),  # row 2: fine
        _row(world, 小区="不存在小区", 身份证号=make_id(8102)),  # 3
        _row(world, 身份证号=good_id[:-1] + ("0" if good_id[-1] != "0" else "1")),  # 4
        _row(world, 手机号="12345", 身份证号=make_id(8104)),  # 5
        _row(world, 出生日期="去年", 身份证号=make_id(8105)),  # 6
        _row(world, 性别="未知", 身份证号=make_id(8106)),  # 7
        _row(world, 身份证号=good_id),  # 8: same ID as row 2
        _row(world, 姓名="", 身份证号=make_id(8108)),  # 9
        _row(world, 标签="不存在的标签", 身份证号=make_id(8109)),  # 10
        _row(world, 楼栋="99号楼", 身份证号=make_id(8110)),  # 11
        _row(world, 与户主关系="邻居", 身份证号=make_id(8111)),  # 12
        _row(world, 状态="出差", 身份证号=make_id(8112)),  # 13
    ]
    before = Resident.objects.count()

    job = _upload(client, django_capture_on_commit_callbacks, staff, rows)

    assert job.status == ImportJob.Status.INVALID
    assert _codes(job) >= {
        (3, "unknown_estate"),
        (4, "id_checksum"),
        (5, "bad_phone"),
        (6, "bad_date"),
        (7, "unknown_choice"),
        (8, "id_duplicate_in_file"),
        (9, "required"),
        (10, "unknown_tag"),
        (11, "unknown_building"),
        (12, "unknown_choice"),
        (13, "unknown_choice"),
    }
    assert not any(e["row"] == 2 for e in job.errors)
    assert job.error_count == 11
    assert job.new_count == 1
    assert Resident.objects.count() == before

    page = client.get(reverse("community:resident-import-job", args=[job.pk]))
    html = page.content.decode()
    assert "No estate named “不存在小区” in your area." in html
    assert "The same ID number is already in row 2." in html
    assert "姓名 is required." in html
    assert good_id not in html
    assert "resident-import-confirm" not in html


def test_confirm_is_refused_when_preview_has_errors(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any
) -> None:
    job = _upload(
        client, django_capture_on_commit_callbacks, staff, [_row(world, 小区="不存在小区")]
    )
    before = Resident.objects.count()

    job = _confirm(client, django_capture_on_commit_callbacks, job)

    assert job.status == ImportJob.Status.INVALID
    assert Resident.objects.count() == before
    with pytest.raises(ValidationError):
        services.import_job_confirm(job=job, actor=staff)


def test_clean_file_previews_counts_with_masked_id_numbers(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any
) -> None:
    known = make_id(8201)
    ResidentFactory(household=world.household_a, id_number=known, name="钱七")
    new_id = make_id(8202)
    rows = [
        _row(world, 姓名="钱七", 身份证号=known),
        _row(world, 姓名="孙八", 身份证号=new_id, 单元="9单元", 房号="901"),
        _row(world, 姓名="周九", 身份证号=make_id(8203), 房号="1808"),
    ]

    job = _upload(client, django_capture_on_commit_callbacks, staff, rows)

    assert job.status == ImportJob.Status.PREVIEW
    assert (job.new_count, job.update_count, job.error_count) == (2, 1, 0)
    assert (job.new_unit_count, job.new_household_count) == (1, 2)
    html = client.get(reverse("community:resident-import-job", args=[job.pk])).content.decode()
    assert new_id not in html and known not in html
    assert f"{new_id[:6]}********{new_id[-4:]}" in html
    assert "139****5678" in html
    assert "13912345678" not in html
    assert f"{world.building_a.number} 9单元" in html  # the unit to be created is named


def test_confirmed_import_writes_all_rows_and_records_who_acted(
    client: Any,
    django_capture_on_commit_callbacks: Any,
    world: Any,
    staff: Any,
    private_root: Path,
) -> None:
    rows = [
        _row(
            world, 姓名="孙八", 身份证号=make_id(8301), 单元="9单元", 房号="901", 标签="党员、楼长"
        ),
        _row(
            world, 姓名="周九", 身份证号=make_id(8302), 单元="9", 房号="902", 性别="", 出生日期=""
        ),
    ]
    job = _upload(client, django_capture_on_commit_callbacks, staff, rows)
    stored = private_root / job.file_path
    assert stored.exists()

    job = _confirm(client, django_capture_on_commit_callbacks, job)

    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.new_count, job.update_count) == (2, 0)
    sun = Resident.objects.get(name="孙八")
    zhou = Resident.objects.get(name="周九")
    assert sun.household.unit == zhou.household.unit  # "9单元" and "9" are one unit
    assert Unit.objects.filter(building=world.building_a, number="9单元").count() == 1
    assert set(sun.tags.values_list("code", flat=True)) == {"party-member", "building-leader"}
    assert sun.history.latest().history_user == staff
    assert "#" in (sun.history.latest().history_change_reason or "")
    # Gender and birth date come from the ID number when the cells are empty.
    assert zhou.gender == gender_from_id(make_id(8302))
    assert zhou.birth_date == birth_date_from_id(make_id(8302))
    assert Household.history.filter(room="901").latest().history_user == staff
    assert job.confirmed_by == staff
    assert not stored.exists()  # whole ID numbers are not kept once imported
    assert job.file_path == ""


def test_upsert_by_id_number_updates_the_existing_resident(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any
) -> None:
    known = make_id(8401)
    existing = ResidentFactory(household=world.household_a, id_number=known, name="钱七")
    before = Resident.objects.count()
    rows = [
        _row(
            world,
            姓名="钱七",
            身份证号=known,
            手机号="13700001111",
            楼栋=world.building_b.number,
            单元=world.household_b.unit.number,
            房号=world.household_b.room,
            状态="迁出",
        )
    ]

    job = _upload(client, django_capture_on_commit_callbacks, staff, rows)
    job = _confirm(client, django_capture_on_commit_callbacks, job)

    assert job.status == ImportJob.Status.DONE, job.errors
    assert Resident.objects.count() == before
    existing.refresh_from_db()
    assert existing.phone == "13700001111"
    assert existing.household == world.household_b
    assert existing.status == Resident.Status.MOVED_OUT
    assert existing.moved_out_on is not None
    assert job.update_count == 1
    assert existing.history.latest().history_user == staff


def test_reimporting_the_same_file_changes_nothing(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any
) -> None:
    rows = [_row(world, 身份证号=make_id(8451), 房号="777")]
    _confirm(
        client,
        django_capture_on_commit_callbacks,
        _upload(client, django_capture_on_commit_callbacks, staff, rows),
    )
    resident = Resident.objects.get(name="赵六")
    versions = resident.history.count()

    job = _confirm(
        client,
        django_capture_on_commit_callbacks,
        _upload(client, django_capture_on_commit_callbacks, staff, rows),
    )

    assert job.status == ImportJob.Status.DONE
    assert job.update_count == 0
    assert job.preview["unchanged_count"] == 1
    assert resident.history.count() == versions


def test_nothing_is_written_when_a_row_became_invalid_after_the_preview(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any
) -> None:
    last_id = make_id(8503)
    rows = [
        _row(world, 姓名="甲", 身份证号=make_id(8501), 单元="8单元", 房号="801"),
        _row(world, 姓名="乙", 身份证号=make_id(8502), 房号="802"),
        _row(world, 姓名="丙", 身份证号=last_id, 房号="803"),
    ]
    job = _upload(client, django_capture_on_commit_callbacks, staff, rows)
    assert job.status == ImportJob.Status.PREVIEW
    # Meanwhile the neighbouring community registers the same person.
    ResidentFactory(household=world.other_household, id_number=last_id)
    residents, units, households = (
        Resident.objects.count(),
        Unit.objects.count(),
        Household.objects.count(),
    )

    job = _confirm(client, django_capture_on_commit_callbacks, job)

    assert job.status == ImportJob.Status.FAILED
    assert _codes(job) == {(4, "id_outside_scope")}
    assert Resident.objects.count() == residents
    assert not Resident.objects.filter(name__in=["甲", "乙"]).exists()
    assert (Unit.objects.count(), Household.objects.count()) == (units, households)
    page = client.get(reverse("community:resident-import-job", args=[job.pk])).content.decode()
    assert "nothing was saved" in page


def test_a_failure_at_the_last_row_rolls_back_every_earlier_row(
    client: Any,
    django_capture_on_commit_callbacks: Any,
    world: Any,
    staff: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        _row(world, 姓名="甲", 身份证号=make_id(8601), 单元="7单元", 房号="701"),
        _row(world, 姓名="乙", 身份证号=make_id(8602), 房号="702"),
        _row(world, 姓名="丙", 身份证号=make_id(8603), 房号="703"),
    ]
    job = _upload(client, django_capture_on_commit_callbacks, staff, rows)
    real_save = services.resident_save

    def save_then_fail(**kwargs: Any) -> Resident:
        if kwargs["name"] == "丙":
            raise ValidationError("the disk is full")
        return real_save(**kwargs)

    monkeypatch.setattr(import_services, "resident_save", save_then_fail)
    residents, units = Resident.objects.count(), Unit.objects.count()

    job = _confirm(client, django_capture_on_commit_callbacks, job)

    assert job.status == ImportJob.Status.FAILED
    assert [(e["row"], e["code"]) for e in job.errors] == [(4, "invalid_record")]
    assert (Resident.objects.count(), Unit.objects.count()) == (residents, units)
    assert job.new_count == 3 and job.finished_at is not None  # the preview's counts stay


def test_rows_outside_the_uploaders_area_are_rejected(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any
) -> None:
    other_id = decrypt_id_number(world.other_resident.id_number_ciphertext)
    rows = [
        _row(
            world,
            小区=world.other_estate.name,
            楼栋=world.other_building.number,
            身份证号=make_id(8701),
        ),
        _row(world, 姓名="王芳", 身份证号=other_id),  # a resident the other office keeps
    ]

    job = _upload(client, django_capture_on_commit_callbacks, staff, rows)

    assert job.status == ImportJob.Status.INVALID
    assert _codes(job) == {(2, "unknown_estate"), (3, "id_outside_scope")}
    world.other_resident.refresh_from_db()
    assert world.other_resident.household == world.other_household


@pytest.mark.parametrize(
    "persona", ["outsider", "grid_worker", "resident", "property_staff", "street_supervisor"]
)
def test_users_who_may_not_change_the_registry_get_404_on_import_pages(
    client: Any,
    django_capture_on_commit_callbacks: Any,
    world: Any,
    staff: Any,
    persona: str,
    request: pytest.FixtureRequest,
) -> None:
    job = _upload(client, django_capture_on_commit_callbacks, staff, [_row(world)])
    client.force_login(request.getfixturevalue(persona))

    assert client.get(IMPORT_URL).status_code == 404
    assert client.post(IMPORT_URL, {"file": _xlsx([_row(world)])}).status_code == 404
    assert client.get(reverse("community:resident-import-template")).status_code == 404
    for name in ("resident-import-job", "resident-import-progress"):
        assert client.get(reverse(f"community:{name}", args=[job.pk])).status_code == 404
    for name in ("resident-import-confirm", "resident-import-cancel"):
        assert client.post(reverse(f"community:{name}", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEW


def test_staff_see_their_communitys_imports_but_not_another_communitys(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any
) -> None:
    job = _upload(client, django_capture_on_commit_callbacks, staff, [_row(world)])
    colleague = UserFactory(name="陈主任", is_staff=True)
    MembershipFactory(user=colleague, community=world.home)
    neighbour = UserFactory(name="邻社区干事", is_staff=True)
    MembershipFactory(user=neighbour, community=world.other)
    url = reverse("community:resident-import-job", args=[job.pk])

    client.force_login(colleague)
    assert client.get(url).status_code == 200
    client.force_login(neighbour)
    assert client.get(url).status_code == 404
    assert job.original_name not in client.get(IMPORT_URL).content.decode()


def test_anonymous_users_are_sent_to_log_in(client: Any, world: Any) -> None:
    response = client.get(IMPORT_URL)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_progress_endpoint_shows_rows_processed(world: Any, staff: Any, client: Any) -> None:
    job = ImportJob.objects.create(
        uploaded_by=staff, original_name="a.xlsx", status=ImportJob.Status.APPLYING
    )
    registry_import.progress_set(job.pk, phase="applying", done=120, total=480)
    client.force_login(staff)
    url = reverse("community:resident-import-progress", args=[job.pk])

    html = client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert 'aria-valuenow="25"' in html
    assert "120" in html and "480" in html
    assert 'hx-trigger="every 1s"' in html

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE)
    response = client.get(url, headers={"HX-Request": "true"})
    assert response["HX-Refresh"] == "true"


def test_apply_publishes_progress_while_its_transaction_is_open(
    client: Any,
    django_capture_on_commit_callbacks: Any,
    world: Any,
    staff: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        _row(world, 姓名=f"居民{i}", 身份证号=make_id(8800 + i), 房号=f"8{i:02d}") for i in range(3)
    ]
    job = _upload(client, django_capture_on_commit_callbacks, staff, rows)
    monkeypatch.setattr(import_services, "_IMPORT_CHUNK", 1)
    seen: list[int] = []
    real_save = services.resident_save

    def watching_save(**kwargs: Any) -> Resident:
        progress = client.get(reverse("community:resident-import-progress", args=[job.pk]))
        seen.append(int(progress.context["progress"]["done"]))
        return real_save(**kwargs)

    monkeypatch.setattr(import_services, "resident_save", watching_save)

    job = _confirm(client, django_capture_on_commit_callbacks, job)

    assert job.status == ImportJob.Status.DONE
    assert seen == [0, 1, 2]


def test_upload_refuses_a_file_that_is_not_a_workbook(
    client: Any, world: Any, staff: Any, settings: Any
) -> None:
    client.force_login(staff)
    fake = SimpleUploadedFile("台账.xlsx", b"name,phone\n", content_type=XLSX)

    response = client.post(IMPORT_URL, {"file": fake})

    assert response.status_code == 200
    assert "This is not an Excel workbook" in response.content.decode()
    settings.LINLI_IMPORT_MAX_BYTES = 1024
    response = client.post(IMPORT_URL, {"file": _xlsx([_row(world)])})
    assert "larger than" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_too_many_rows_is_reported_clearly(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any, settings: Any
) -> None:
    settings.LINLI_IMPORT_MAX_ROWS = 2
    rows = [_row(world, 身份证号=make_id(8900 + i), 房号=f"9{i}") for i in range(3)]

    job = _upload(client, django_capture_on_commit_callbacks, staff, rows)

    assert job.status == ImportJob.Status.INVALID
    assert _codes(job) == {(None, "too_many_rows")}
    html = client.get(reverse("community:resident-import-job", args=[job.pk])).content.decode()
    assert "more than 2 rows" in html


def test_missing_required_columns_are_named(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any
) -> None:
    client.force_login(staff)
    upload = _xlsx([{"姓名": "赵六"}], header=["姓名", "手机号"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(IMPORT_URL, {"file": upload})

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.INVALID
    assert job.errors[0]["code"] == "missing_columns"
    assert "身份证号" in job.errors[0]["params"]["columns"]


def test_english_headers_are_accepted(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any
) -> None:
    english = [
        "Estate",
        "Building",
        "Unit",
        "Room",
        "Name",
        "Gender",
        "Birth date",
        "Phone",
        "ID number",
        "Relation to head",
        "Tags",
        "Moved in on",
        "Status",
    ]
    cells = _row(world, 性别="female", 与户主关系="spouse", 状态="active", 标签="volunteer")
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            IMPORT_URL,
            {"file": _xlsx([dict(zip(english, cells.values(), strict=True))], header=english)},
        )

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.PREVIEW, job.errors


def test_template_has_the_header_row(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)

    response = client.get(reverse("community:resident-import-template"))

    assert response["Content-Type"] == XLSX
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header == [column.header for column in registry_import.COLUMNS]
    assert set(HEADER) <= set(header)


def test_status_changes_only_along_the_allowed_transitions(world: Any, staff: Any) -> None:
    job = ImportJob.objects.create(
        uploaded_by=staff, original_name="a.xlsx", status=ImportJob.Status.DONE
    )
    with pytest.raises(ValidationError):
        services.import_job_cancel(job=job, actor=staff)

    preview = ImportJob.objects.create(
        uploaded_by=staff, original_name="b.xlsx", status=ImportJob.Status.PREVIEW
    )
    stale = ImportJob.objects.get(pk=preview.pk)
    services.import_job_cancel(job=preview, actor=staff)
    with pytest.raises(ValidationError):  # compare-and-set: the stale copy moves nothing
        services.import_job_confirm(job=stale, actor=staff)
    stale.refresh_from_db()
    assert stale.status == ImportJob.Status.CANCELLED


def test_admin_resident_list_links_to_import_and_export(
    client: Any, world: Any, staff: Any, street_supervisor: Any
) -> None:
    changelist = reverse("admin:community_resident_changelist")
    client.force_login(staff)
    html = client.get(changelist).content.decode()
    assert IMPORT_URL in html and reverse("community:resident-export") in html

    client.force_login(street_supervisor)  # reads the registry, may not change it
    html = client.get(changelist).content.decode()
    assert IMPORT_URL not in html and reverse("community:resident-export") in html


def test_staff_cannot_import_into_the_community_they_only_live_in(
    client: Any, django_capture_on_commit_callbacks: Any, world: Any, staff: Any
) -> None:
    world.other_resident.user = staff  # staff of `home`, living in `other`
    world.other_resident.save(update_fields=["user"])
    other_unit = world.other_household.unit
    rows = [
        _row(
            world,
            小区=world.other_estate.name,
            楼栋=world.other_building.number,
            单元=other_unit.number,
            房号=world.other_household.room,
            身份证号=make_id(8901),
        ),
        # Their own record, kept by the other office: not theirs to change by import.
        _row(world, 身份证号=decrypt_id_number(world.other_resident.id_number_ciphertext)),
    ]

    job = _upload(client, django_capture_on_commit_callbacks, staff, rows)

    assert job.status == ImportJob.Status.INVALID
    assert _codes(job) == {(2, "unknown_estate"), (3, "id_outside_scope")}


@pytest.mark.django_db(transaction=True)
def test_confirm_does_not_overwrite_the_progress_of_an_import_that_already_ran(
    client: Any, world: Any, staff: Any
) -> None:
    # Here callbacks run at the real commit, as in the embedded and sync run modes: the
    # import runs to the end before the confirming request returns.
    def _no_capture(**kwargs: Any) -> Any:
        return contextlib.nullcontext()

    job = _upload(client, _no_capture, staff, [_row(world), _row(world, 身份证号=make_id(8902))])
    assert job.status == ImportJob.Status.PREVIEW

    services.import_job_confirm(job=job, actor=staff)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    progress = registry_import.progress_get(job.pk)
    assert progress is not None
    assert (progress["phase"], progress["done"]) == ("applying", 2)
