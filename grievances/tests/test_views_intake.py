"""Filing through the pages: a resident on the portal, a grid worker on patrol or for a
resident, hotline staff; the duplicate warning; the suggestion box."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from community.models import Membership
from community.tests.factories import MembershipFactory, ResidentFactory
from config.throttling import throttles_reset
from grievances.models import Attachment, Category, Grievance
from grievances.tests.factories import CategoryFactory, GrievanceFactory, photo_upload
from grievances.views.intake import ANONYMOUS_SUGGESTIONS_PER_HOUR

pytestmark = pytest.mark.django_db
Channel = Grievance.Channel
Status = Grievance.Status
FILE = "/grievances/new/"


def zh(message: str) -> str:
    """A message as the Chinese page shows it (the default UI language)."""
    with translation.override("zh-hans"):
        return str(translation.gettext(message))


#: Django's own "This field is required." as the Chinese page shows it.
REQUIRED_ZH = zh("This field is required.")
assert "必填" in REQUIRED_ZH


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Any:
    throttles_reset()
    yield
    throttles_reset()


@pytest.fixture
def suggestion(db: Any) -> Category:
    category: Category = CategoryFactory.create(
        code="suggestion",
        name="意见建议",
        default_handler=Category.Handler.COMMUNITY_OFFICE,
    )
    return category


def _select(html: str, name: str) -> str:
    """The <select> of that name, options and all."""
    start = html.index(f'<select name="{name}"')
    return html[start : html.index("</select>", start)]


def _post(client: Any, data: dict[str, Any], **extra: Any) -> Any:
    return client.post(reverse("grievances:file"), data, **extra)


def _resident_data(categories: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "mode": "resident",
        "category": categories.lamp.pk,
        "title": "三楼楼道灯不亮",
        "description": "晚上上楼看不见，已经一周了",
        "where": "home",
    }
    data.update(overrides)
    return data


def test_the_urls_are_where_the_menu_expects_them() -> None:
    assert reverse("grievances:file") == FILE
    assert reverse("grievances:suggest") == "/grievances/suggest/"
    assert reverse("grievances:mine") == "/grievances/mine/"
    assert reverse("grievances:duplicates") == "/grievances/duplicates/"


# --- the resident -------------------------------------------------------------------------


def test_resident_sees_the_form_for_their_home(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    client.force_login(resident)
    response = client.get(FILE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="where"' in html and 'name="caller_phone"' not in html
    assert str(world.household_a) in html  # "at my home" names the home
    # Two-level picker: the parent as an <optgroup>, its subcategories inside.
    assert '<optgroup label="房屋维修">' in html and ">漏水</option>" in html
    assert 'accept="image/*"' in html and 'capture="environment"' in html and "multiple" in html
    assert 'data-draft-key="linli.grievance-draft.' in html


def test_resident_files_at_home_with_a_photo(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    client.force_login(resident)
    data = _resident_data(categories, photos=[photo_upload("p.jpg")])
    response = _post(client, data)
    grievance = Grievance.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("grievances:filed", args=[grievance.pk])
    assert grievance.channel == Channel.PORTAL
    assert grievance.reporter == world.resident_a and grievance.submitted_by == resident
    assert (grievance.household, grievance.building) == (world.household_a, world.building_a)
    assert Attachment.objects.filter(grievance=grievance).count() == 1

    page = client.get(response["Location"]).content.decode()
    assert f"#{grievance.pk}" in page
    assert f'href="/grievances/{grievance.pk}/"' in page  # its page (grievances:detail)
    assert (
        zh(
            "Once they accept it, they promise to be on site within 10 minutes, to solve a "
            "routine problem within 1 hour, and to give a plan for a complex one within 1 day."
        )
        in page
    )
    # The page that confirms the filing clears the phone's draft.
    assert f'data-draft-clear="linli.grievance-draft.{resident.pk}.resident"' in page


def test_resident_files_about_another_building_of_the_community(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    client.force_login(resident)
    response = _post(
        client,
        _resident_data(categories, where="elsewhere", building=world.building_b.pk, address="东门"),
    )
    assert response.status_code == 302
    grievance = Grievance.objects.get()
    assert grievance.building == world.building_b and grievance.household is None
    assert grievance.reporter == world.resident_a and grievance.address == "东门"


def test_resident_cannot_pick_a_building_of_another_community(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    client.force_login(resident)
    response = _post(
        client, _resident_data(categories, where="elsewhere", building=world.other_building.pk)
    )
    assert response.status_code == 400
    assert not Grievance.objects.exists()


def test_elsewhere_needs_a_building(client: Any, resident: Any, categories: Any) -> None:
    client.force_login(resident)
    response = _post(client, _resident_data(categories, where="elsewhere"))
    assert response.status_code == 400
    assert zh("Choose the building where it is.") in response.content.decode()
    assert not Grievance.objects.exists()


def test_missing_fields_are_shown_in_chinese_and_nothing_is_saved(
    client: Any, resident: Any, categories: Any
) -> None:
    client.force_login(resident)
    response = _post(client, _resident_data(categories, title="", description=" "))
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count(REQUIRED_ZH) == 2
    assert 'class="form-control is-invalid"' in html
    # What was chosen stays in the form.
    assert f'<option value="{categories.lamp.pk}" selected>' in html
    assert not Grievance.objects.exists()


def test_a_category_with_subcategories_cannot_be_chosen_itself(
    client: Any, resident: Any, categories: Any
) -> None:
    client.force_login(resident)
    response = _post(client, _resident_data(categories, category=categories.repair.pk))
    assert response.status_code == 400
    assert not Grievance.objects.exists()


def test_extra_questions_are_asked_and_their_answers_kept(
    client: Any, resident: Any, categories: Any
) -> None:
    client.force_login(resident)
    part = client.get(reverse("grievances:file-questions"), {"category": categories.leak.pk})
    assert part.status_code == 200
    assert "漏水位置" in part.content.decode() and 'name="attr_where"' in part.content.decode()

    unanswered = _post(client, _resident_data(categories, category=categories.leak.pk))
    assert unanswered.status_code == 400
    assert REQUIRED_ZH in unanswered.content.decode()
    assert not Grievance.objects.exists()

    answered = _post(
        client, _resident_data(categories, category=categories.leak.pk, attr_where="ceiling")
    )
    assert answered.status_code == 302
    assert Grievance.objects.get().attributes == {"where": "ceiling"}


def test_every_question_type_is_rendered(client: Any, resident: Any) -> None:
    category = CategoryFactory(
        attributes=[
            {"code": "s", "datatype": "string", "description": "车牌号"},
            {"code": "n", "datatype": "number", "description": "楼层"},
            {"code": "d", "datatype": "datetime", "description": "发生时间"},
            {"code": "t", "datatype": "text", "description": "补充说明"},
            {
                "code": "one",
                "datatype": "singlevaluelist",
                "description": "是否有人被困",
                "values": [{"key": "yes", "name": "有人被困"}, {"key": "no", "name": "无人"}],
            },
            {
                "code": "many",
                "datatype": "multivaluelist",
                "description": "涉及设施",
                "values": [{"key": "a", "name": "门"}, {"key": "b", "name": "窗"}],
            },
            {"code": "info", "variable": False, "description": "请勿靠近漏电处"},
        ]
    )
    client.force_login(resident)
    html = client.get(reverse("grievances:file-questions"), {"category": category.pk}).content
    html_text = html.decode()
    assert 'type="text" name="attr_s"' in html_text
    assert 'type="number" name="attr_n"' in html_text
    assert 'type="datetime-local" name="attr_d"' in html_text
    assert '<textarea name="attr_t"' in html_text
    assert 'type="radio" name="attr_one"' in html_text
    assert 'type="checkbox" name="attr_many"' in html_text
    assert "请勿靠近漏电处" in html_text

    response = _post(
        client,
        {
            **_resident_data(_Cat(category)),
            "attr_n": "3",
            "attr_d": "2026-03-02T09:30",
            "attr_many": ["a", "b"],
            "attr_one": "no",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    answers = Grievance.objects.get().attributes
    assert answers["n"] == "3" and answers["many"] == ["a", "b"] and answers["one"] == "no"
    assert answers["d"].startswith("2026-03-02T09:30:00")


class _Cat:
    """Stands in for the categories fixture with one category as `lamp`."""

    def __init__(self, category: Category) -> None:
        self.lamp = category


def test_a_photo_that_is_not_an_image_is_refused_by_its_content(
    client: Any, resident: Any, categories: Any, settings: Any
) -> None:
    client.force_login(resident)
    fake = SimpleUploadedFile("leak.jpg", b"<html><script>alert(1)</script>", "image/jpeg")
    response = _post(client, _resident_data(categories, photos=[fake]))
    assert response.status_code == 400
    assert zh("This file is not a JPEG, PNG or WebP photo.") in response.content.decode()
    assert not Grievance.objects.exists()
    root = Path(settings.PRIVATE_STORAGE_ROOT)
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_a_retry_of_the_same_submission_files_it_once(
    client: Any, resident: Any, categories: Any
) -> None:
    """The answer to the first POST was lost on the way; the phone sends it again."""
    client.force_login(resident)
    data = _resident_data(categories, submission_key=uuid.uuid4().hex)
    first = _post(client, data)
    again = _post(client, data)
    grievance = Grievance.objects.get()
    assert (
        first["Location"] == again["Location"] == reverse("grievances:filed", args=[grievance.pk])
    )
    # A new report (a new key) is filed as such.
    assert _post(client, {**data, "submission_key": uuid.uuid4().hex}).status_code == 302
    assert Grievance.objects.count() == 2


def test_a_refused_submission_can_be_corrected_and_sent_with_the_same_key(
    client: Any, resident: Any, categories: Any
) -> None:
    client.force_login(resident)
    data = _resident_data(categories, submission_key=uuid.uuid4().hex, category=categories.leak.pk)
    assert _post(client, {**data, "attr_where": "nowhere"}).status_code == 400
    assert _post(client, {**data, "attr_where": "pipe"}).status_code == 302
    assert Grievance.objects.get().attributes == {"where": "pipe"}


def test_the_filed_page_of_someone_elses_grievance_is_not_found(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    theirs = GrievanceFactory(community=world.home, household=world.household_b)
    client.force_login(resident)
    assert client.get(reverse("grievances:filed", args=[theirs.pk])).status_code == 404


# --- the grid worker ------------------------------------------------------------------------


def _worker_data(world: Any, categories: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "mode": "worker",
        "category": categories.lamp.pk,
        "title": "2单元楼道灯坏",
        "description": "巡查发现",
        "building": world.building_a.pk,
        "source": "patrol",
    }
    data.update(overrides)
    return data


def test_grid_worker_files_a_patrol_finding_with_unit_and_position(
    client: Any, world: Any, grid_worker: Any, categories: Any
) -> None:
    client.force_login(grid_worker)
    page = client.get(FILE).content.decode()
    assert "data-geolocate" in page and 'name="source"' in page
    # Only the buildings of the worker's grid.
    buildings = _select(page, "building")
    assert f'value="{world.building_a.pk}"' in buildings
    assert f'value="{world.building_b.pk}"' not in buildings

    unit = world.household_a.unit
    response = _post(
        client,
        _worker_data(
            world,
            categories,
            unit=unit.pk,
            latitude="31.230416",
            longitude="121.473701",
            photos=[photo_upload()],
        ),
    )
    assert response.status_code == 302
    grievance = Grievance.objects.get()
    assert grievance.channel == Channel.PATROL and grievance.reporter is None
    assert grievance.submitted_by == grid_worker
    assert (grievance.building, grievance.unit) == (world.building_a, unit)
    assert str(grievance.latitude) == "31.230416" and str(grievance.longitude) == "121.473701"
    assert grievance.attachments.count() == 1


def test_grid_worker_files_without_a_position(
    client: Any, world: Any, grid_worker: Any, categories: Any
) -> None:
    client.force_login(grid_worker)
    assert _post(client, _worker_data(world, categories)).status_code == 302
    assert Grievance.objects.get().latitude is None


def test_grid_worker_files_on_behalf_of_a_resident_of_the_building(
    client: Any, world: Any, grid_worker: Any, categories: Any
) -> None:
    client.force_login(grid_worker)
    response = _post(
        client, _worker_data(world, categories, source="resident", resident=world.resident_a.pk)
    )
    assert response.status_code == 302
    grievance = Grievance.objects.get()
    assert grievance.channel == Channel.GRID_WORKER
    assert grievance.reporter == world.resident_a and grievance.submitted_by == grid_worker


def test_on_behalf_needs_the_resident_picked(
    client: Any, world: Any, grid_worker: Any, categories: Any
) -> None:
    client.force_login(grid_worker)
    response = _post(client, _worker_data(world, categories, source="resident"))
    assert response.status_code == 400
    assert zh("Pick the resident who told you, or switch to a patrol finding.") in (
        response.content.decode()
    )
    assert not Grievance.objects.exists()


def test_grid_worker_cannot_file_outside_their_grid(
    client: Any, world: Any, grid_worker: Any, categories: Any
) -> None:
    client.force_login(grid_worker)
    other_grid = _post(client, _worker_data(world, categories, building=world.building_b.pk))
    not_theirs = _post(
        client, _worker_data(world, categories, source="resident", resident=world.resident_b.pk)
    )
    no_building = _post(client, _worker_data(world, categories, building=""))
    assert (other_grid.status_code, not_theirs.status_code, no_building.status_code) == (
        400,
        400,
        400,
    )
    assert REQUIRED_ZH in no_building.content.decode()
    assert not Grievance.objects.exists()


def test_units_and_residents_of_the_building_for_the_picker(
    client: Any, world: Any, grid_worker: Any
) -> None:
    neighbour = ResidentFactory(household=world.household_a, name="张小花", phone="13900004321")
    client.force_login(grid_worker)
    units = client.get(
        reverse("grievances:file-units"), {"mode": "worker", "building": world.building_a.pk}
    ).content.decode()
    assert f'value="{world.household_a.unit.pk}"' in units
    elsewhere = client.get(
        reverse("grievances:file-units"), {"mode": "worker", "building": world.building_b.pk}
    ).content.decode()
    assert f'value="{world.household_b.unit.pk}"' not in elsewhere

    url = reverse("grievances:file-residents")
    by_name = client.get(
        url, {"mode": "worker", "building": world.building_a.pk, "resident_q": "张"}
    ).content.decode()
    assert "张建国" in by_name and "张小花" in by_name
    assert "139****4321" in by_name and "13900004321" not in by_name  # masked
    by_tail = client.get(url, {"mode": "worker", "resident_q": "4321"}).content.decode()
    assert "张小花" in by_tail and "张建国" not in by_tail
    # Residents of another grid or community are never offered.
    assert (
        "李秀英" not in client.get(url, {"mode": "worker", "resident_q": "李秀英"}).content.decode()
    )
    assert "王芳" not in client.get(url, {"mode": "worker", "resident_q": "王芳"}).content.decode()
    assert neighbour.household == world.household_a


def test_residents_do_not_get_the_work_pickers(client: Any, world: Any, resident: Any) -> None:
    client.force_login(resident)
    assert (
        client.get(reverse("grievances:file-units"), {"building": world.building_a.pk}).status_code
        == 404
    )
    assert client.get(reverse("grievances:file-residents"), {"resident_q": "张"}).status_code == 404


# --- the hotline ------------------------------------------------------------------------------


def test_hotline_staff_file_a_call_on_behalf_of_a_resident(
    client: Any, world: Any, staff: Any, categories: Any
) -> None:
    client.force_login(staff)
    page = client.get(FILE).content.decode()
    assert 'name="caller_phone"' in page and 'name="resident_q"' in page
    response = _post(
        client,
        {
            "mode": "hotline",
            "community": world.home.pk,
            "category": categories.lamp.pk,
            "title": "楼道灯坏",
            "description": "来电反映",
            "caller_name": "李秀英",
            "caller_phone": "+86 139-0000-1234",
            "resident": world.resident_b.pk,
        },
    )
    assert response.status_code == 302
    grievance = Grievance.objects.get()
    assert grievance.channel == Channel.HOTLINE and grievance.submitted_by == staff
    assert grievance.caller_phone == "13900001234" and grievance.caller_name == "李秀英"
    assert grievance.reporter == world.resident_b
    assert grievance.household == world.household_b  # at the caller's home


def test_hotline_needs_the_callers_phone_and_a_place(
    client: Any, world: Any, staff: Any, categories: Any
) -> None:
    client.force_login(staff)
    data = {
        "mode": "hotline",
        "category": categories.lamp.pk,
        "title": "路灯不亮",
        "description": "来电",
    }
    no_phone = _post(client, data)
    assert no_phone.status_code == 400 and REQUIRED_ZH in no_phone.content.decode()
    nowhere = _post(client, {**data, "caller_phone": "13900001234"})
    assert nowhere.status_code == 400
    assert zh("Say where it is: pick a building, give an address or a position.") in (
        nowhere.content.decode()
    )
    assert not Grievance.objects.exists()
    at_building = _post(
        client, {**data, "caller_phone": "13900001234", "building": world.building_b.pk}
    )
    assert at_building.status_code == 302
    assert Grievance.objects.get().reporter is None


def test_hotline_cannot_file_for_a_resident_of_another_community(
    client: Any, world: Any, staff: Any, categories: Any
) -> None:
    client.force_login(staff)
    response = _post(
        client,
        {
            "mode": "hotline",
            "category": categories.lamp.pk,
            "title": "t",
            "description": "d",
            "caller_phone": "13900001234",
            "resident": world.other_resident.pk,
        },
    )
    assert response.status_code == 400
    assert not Grievance.objects.exists()


def test_a_resident_cannot_switch_to_the_hotline_form(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    client.force_login(resident)
    page = client.get(FILE, {"mode": "hotline"}).content.decode()
    assert 'name="caller_phone"' not in page
    response = _post(client, {**_resident_data(categories), "mode": "hotline", "caller_phone": "1"})
    assert response.status_code == 302
    assert Grievance.objects.get().channel == Channel.PORTAL


# --- duplicates -------------------------------------------------------------------------------


def _dup(world: Any, category: Category, **kwargs: Any) -> Grievance:
    values: dict[str, Any] = {
        "community": world.home,
        "estate": world.estate,
        "building": world.building_a,
        "category": category,
        "submitted_at": timezone.now() - dt.timedelta(hours=2),
    }
    values.update(kwargs)
    grievance: Grievance = GrievanceFactory.create(**values)
    return grievance


def test_duplicates_lists_open_ones_of_the_category_at_the_building_in_scope(
    client: Any, world: Any, grid_worker: Any, resident: Any, categories: Any
) -> None:
    mine = _dup(world, categories.lamp, title="我家楼道灯", household=world.household_a)
    neighbours = _dup(world, categories.lamp, title="邻居报的灯", reporter=world.resident_b)
    _dup(world, categories.lamp, title="已关闭的灯", status=Status.CLOSED)
    _dup(
        world,
        categories.lamp,
        title="上个月的灯",
        submitted_at=timezone.now() - dt.timedelta(days=20),
    )
    _dup(world, categories.lamp, title="二号楼的灯", building=world.building_b)
    _dup(world, categories.leak, title="别的类别")
    _dup(world, categories.lamp, title="匿名意见", is_anonymous=True)

    url = reverse("grievances:duplicates")
    client.force_login(grid_worker)
    html = client.get(
        url, {"mode": "worker", "category": categories.lamp.pk, "building": world.building_a.pk}
    ).content.decode()
    assert "我家楼道灯" in html and "邻居报的灯" in html
    assert f'href="/grievances/{mine.pk}/"' in html and f"#{neighbours.pk}" in html
    for title in ("已关闭的灯", "上个月的灯", "二号楼的灯", "别的类别", "匿名意见"):
        assert title not in html
    # A building outside the worker's grid shows nothing.
    assert (
        "二号楼的灯"
        not in client.get(
            url, {"mode": "worker", "category": categories.lamp.pk, "building": world.building_b.pk}
        ).content.decode()
    )

    # A resident sees only their own household's, never a neighbour's report.
    client.force_login(resident)
    html = client.get(url, {"category": categories.lamp.pk, "where": "home"}).content.decode()
    assert "我家楼道灯" in html and "邻居报的灯" not in html


def test_duplicates_need_a_category_and_a_building(
    client: Any, world: Any, grid_worker: Any, categories: Any
) -> None:
    _dup(world, categories.lamp)
    client.force_login(grid_worker)
    response = client.get(
        reverse("grievances:duplicates"), {"mode": "worker", "building": world.building_a.pk}
    )
    assert response.status_code == 200 and "alert" not in response.content.decode()


def test_the_form_stays_submittable_with_a_duplicate(
    client: Any, world: Any, grid_worker: Any, categories: Any
) -> None:
    _dup(world, categories.lamp)
    client.force_login(grid_worker)
    assert _post(client, _worker_data(world, categories)).status_code == 302
    assert Grievance.objects.count() == 2


# --- the suggestion box -----------------------------------------------------------------------


def test_an_anonymous_suggestion_stores_no_reporter_and_no_phone(
    client: Any, world: Any, resident: Any, suggestion: Category
) -> None:
    client.force_login(resident)
    page = client.get(reverse("grievances:suggest"))
    assert page.status_code == 200 and 'name="anonymous"' in page.content.decode()
    response = client.post(
        reverse("grievances:suggest"),
        {
            "category": suggestion.pk,
            "text": "希望在花园多放几张长椅，老人散步可以休息。",
            "anonymous": "on",
        },
    )
    assert response.status_code == 302
    grievance = Grievance.objects.get()
    assert grievance.channel == Channel.SUGGESTION_BOX and grievance.is_anonymous
    assert grievance.reporter is None and grievance.submitted_by is None
    assert (
        grievance.household is None and grievance.caller_phone == "" and grievance.caller_name == ""
    )
    assert grievance.title.startswith("希望在花园多放几张长椅")
    # Nothing links the writer to it, not even their session or the thanks page.
    assert client.session["grievance_suggested"] == {
        "pk": None,
        "anonymous": True,
        "office": False,
    }
    thanks = client.get(response["Location"]).content.decode()
    assert f"#{grievance.pk}" not in thanks and f"/grievances/{grievance.pk}/" not in thanks
    assert (
        zh(
            "It was sent anonymously: nothing stored with it names you, so nobody can answer you "
            "personally. The office reads every suggestion and reports how many were acted on."
        )
        in thanks
    )


def test_a_signed_suggestion_is_the_residents(
    client: Any, world: Any, resident: Any, suggestion: Category
) -> None:
    client.force_login(resident)
    response = client.post(
        reverse("grievances:suggest"),
        {"category": suggestion.pk, "subject": "增加长椅", "text": "花园里长椅太少"},
    )
    assert response.status_code == 302
    grievance = Grievance.objects.get()
    assert grievance.reporter == world.resident_a and grievance.title == "增加长椅"
    assert not grievance.is_anonymous
    thanks = client.get(response["Location"]).content.decode()
    assert f"#{grievance.pk}" in thanks and f'href="/grievances/{grievance.pk}/"' in thanks


def test_the_suggestion_box_offers_only_suggestion_categories(
    client: Any, resident: Any, suggestion: Category, categories: Any
) -> None:
    client.force_login(resident)
    response = client.post(
        reverse("grievances:suggest"), {"category": categories.lamp.pk, "text": "灯"}
    )
    assert response.status_code == 400
    assert not Grievance.objects.exists()
    # …and the grievance form does not offer the suggestion box's.
    offered = _select(client.get(FILE).content.decode(), "category")
    assert f'value="{suggestion.pk}"' not in offered
    assert f'value="{categories.lamp.pk}"' in offered


def test_anonymous_suggestions_are_rate_limited_per_resident(
    client: Any, world: Any, resident: Any, suggestion: Category
) -> None:
    client.force_login(resident)
    data = {"category": suggestion.pk, "text": "建议", "anonymous": "on"}
    for _ in range(ANONYMOUS_SUGGESTIONS_PER_HOUR):
        assert client.post(reverse("grievances:suggest"), data).status_code == 302
    refused = client.post(reverse("grievances:suggest"), data)
    assert refused.status_code == 429
    assert Grievance.objects.count() == ANONYMOUS_SUGGESTIONS_PER_HOUR
    # Signed suggestions are traceable and not limited.
    signed = client.post(reverse("grievances:suggest"), {**data, "anonymous": ""})
    assert signed.status_code == 302


def test_the_office_copies_a_signed_paper_slip(
    client: Any, world: Any, staff: Any, suggestion: Category
) -> None:
    client.force_login(staff)
    response = client.post(
        reverse("grievances:suggest"),
        {
            "mode": "hotline",
            "category": suggestion.pk,
            "text": "意见箱纸条：垃圾桶太少",
            "writer_name": "赵大爷",
            "writer_phone": "13900005678",
        },
    )
    assert response.status_code == 302
    grievance = Grievance.objects.get()
    assert grievance.caller_name == "赵大爷" and grievance.caller_phone == "13900005678"
    assert grievance.submitted_by == staff


def test_suggestion_text_is_required_in_chinese(
    client: Any, resident: Any, suggestion: Category
) -> None:
    client.force_login(resident)
    response = client.post(reverse("grievances:suggest"), {"category": suggestion.pk, "text": ""})
    assert response.status_code == 400 and REQUIRED_ZH in response.content.decode()
    assert not Grievance.objects.exists()


def test_without_a_suggestion_category_the_box_says_it_is_not_set_up(
    client: Any, resident: Any
) -> None:
    client.force_login(resident)
    html = client.get(reverse("grievances:suggest")).content.decode()
    assert zh("The suggestion box is not set up yet. Please tell the community office.") in html


# --- who may ----------------------------------------------------------------------------------


def test_outsider_is_denied_with_a_page_that_says_why(
    client: Any, world: Any, outsider: Any, categories: Any, suggestion: Category
) -> None:
    client.force_login(outsider)
    for url in (FILE, reverse("grievances:suggest"), reverse("grievances:mine")):
        response = client.get(url)
        assert response.status_code == 403, url
        assert 'data-testid="no-community"' in response.content.decode()
    assert _post(client, _resident_data(categories)).status_code == 403
    assert (
        client.post(
            reverse("grievances:suggest"), {"category": suggestion.pk, "text": "x"}
        ).status_code
        == 403
    )
    for name in ("duplicates", "file-units", "file-residents", "file-questions"):
        response = client.get(
            reverse(f"grievances:{name}"),
            {"category": categories.lamp.pk, "building": world.building_a.pk, "resident_q": "张"},
        )
        assert response.status_code == 403, name
        assert "张建国" not in response.content.decode()
    assert not Grievance.objects.exists()


def test_someone_not_logged_in_is_sent_to_log_in(client: Any, db: Any) -> None:
    for url in (FILE, reverse("grievances:suggest"), reverse("grievances:mine")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_moved_out_resident_cannot_file(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    world.resident_a.status = "moved_out"
    world.resident_a.moved_out_on = dt.date(2026, 1, 1)
    world.resident_a.save()
    client.force_login(resident)
    assert client.get(FILE).status_code == 403


def test_a_worker_who_is_also_a_resident_chooses_how_to_file(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    MembershipFactory(user=resident, role=Membership.Role.GRID_WORKER, grid=world.grid_b)
    client.force_login(resident)
    page = client.get(FILE).content.decode()
    assert "?mode=resident" in page and "?mode=worker" in page
    assert 'name="source"' in page  # work first
    home = client.get(FILE, {"mode": "resident"}).content.decode()
    assert 'name="where"' in home and 'name="source"' not in home
    # Filing as a worker from grid_b: a patrol finding, not a portal report.
    response = _post(client, _worker_data(world, categories, building=world.building_b.pk))
    assert response.status_code == 302
    assert Grievance.objects.get().channel == Channel.PATROL


@pytest.mark.parametrize("rows", [1, 5])
def test_duplicates_take_the_same_queries_for_one_or_many(
    client: Any,
    world: Any,
    grid_worker: Any,
    categories: Any,
    rows: int,
    django_assert_num_queries: Any,
) -> None:
    for _ in range(rows):
        _dup(world, categories.lamp)
    client.force_login(grid_worker)
    params = {"mode": "worker", "category": categories.lamp.pk, "building": world.building_a.pk}
    # Session, user, roles, categories, building, duplicates.
    with django_assert_num_queries(6):
        response = client.get(reverse("grievances:duplicates"), params)
    assert response.content.decode().count('href="/grievances/') == rows


def test_a_nonsense_position_is_refused_above_the_form(
    client: Any, world: Any, grid_worker: Any, categories: Any
) -> None:
    client.force_login(grid_worker)
    response = _post(client, _worker_data(world, categories, latitude="95", longitude="121"))
    assert response.status_code == 400
    html = response.content.decode()
    alert = html[html.index('class="alert alert-danger') :][:300]
    assert zh("Not a valid position.") in alert
    assert not Grievance.objects.exists()
