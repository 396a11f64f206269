"""Open311 GeoReport v2: the spec's documents in XML and JSON, read back with real parsers.

Grievances are filed and moved through the services (`flow`), so timelines and clocks are
the real ones; rows made with factories are only read.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from community.models import Household
from config.throttling import throttles_reset
from grievances import services
from grievances.models import Category, Grievance, Open311Client, SlaClock, TimelineEvent
from grievances.tests.factories import NOW, CategoryFactory, GrievanceFactory

pytestmark = pytest.mark.django_db

Channel = Grievance.Channel
# Around the flow's controlled clock (2026-03-02 10:00 in Shanghai).
AROUND_NOW = {"start_date": "2026-03-01T00:00:00+08:00", "end_date": "2026-03-03T00:00:00+08:00"}
CALLER_PHONE = "13912345678"


# --- helpers ------------------------------------------------------------------------------------


def xml_items(root: ET.Element) -> list[dict[str, Any]]:
    """The children of a list document (<services>, <service_requests>, <errors>) as dicts."""
    return [{child.tag: child for child in item} for item in root]


def text(element: ET.Element | None) -> str:
    return "" if element is None or element.text is None else element.text


def fetch(client: Client, path: str, fmt: str, **params: Any) -> tuple[int, Any]:
    """GET `path`.`fmt`; the parsed document (JSON value or the XML root element)."""
    response = client.get(f"/open311/{path}.{fmt}", params)
    return response.status_code, parse(response, fmt)


def parse(response: Any, fmt: str) -> Any:
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content.decode("utf-8"))
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 (our own output, in a test)


def requests_of(client: Client, fmt: str, **params: Any) -> list[dict[str, Any]]:
    """GET requests, as plain dicts of strings (XML) or JSON values."""
    status, doc = fetch(client, "v2/requests", fmt, **params)
    assert status == 200, doc
    if fmt == "json":
        return doc
    return [{k: text(v) for k, v in item.items()} for item in xml_items(doc)]


def errors_of(status: int, doc: Any, fmt: str) -> list[str]:
    """The descriptions of an error document, checking that each code is the HTTP status."""
    if fmt == "json":
        assert all(error["code"] == status for error in doc)
        return [error["description"] for error in doc]
    assert doc.tag == "errors"
    assert all(text(error["code"]) == str(status) for error in xml_items(doc))
    return [text(error["description"]) for error in xml_items(doc)]


@pytest.fixture
def api_key(world: Any, staff: Any) -> str:
    """A key issued to a client application of `home`, the way the admin issues it."""
    _client, key = services.open311_client_create(
        name="市民通App", community=world.home, actor=staff
    )
    return key


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Any:
    throttles_reset()
    yield
    throttles_reset()


def post(client: Client, fmt: str, data: dict[str, Any]) -> Any:
    return client.post(f"/open311/v2/requests.{fmt}", data)


def leak_request(api_key: str, **extra: Any) -> dict[str, Any]:
    data = {
        "api_key": api_key,
        "service_code": "t-leak",
        "lat": "31.230416",
        "long": "121.473701",
        "attribute[where]": "ceiling",
        "description": "厨房天花板漏水，水一直滴",
        "first_name": "建国",
        "last_name": "张",
        "phone": CALLER_PHONE,
        "email": "zhang@example.com",
        "device_id": "tt222111",
        "account_id": "u-42",
        "media_url": "http://example.com/leak.jpg",
    }
    data.update(extra)
    return data


# --- discovery and services ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_points_at_the_v2_endpoint(client: Client, categories: Any, fmt: str) -> None:
    status, doc = fetch(client, "discovery", fmt)
    assert status == 200
    if fmt == "json":
        assert doc["changeset"] and doc["contact"] and doc["key_service"]
        (endpoint,) = doc["endpoints"]
        formats = endpoint["formats"]
    else:
        assert doc.tag == "discovery"
        assert text(doc.find("changeset")) and text(doc.find("key_service"))
        (element,) = doc.find("endpoints")
        endpoint = {child.tag: text(child) for child in element}
        formats = [text(f) for f in element.find("formats")]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] == "production"
    assert formats == ["text/xml", "application/json"]


def test_discovery_changeset_moves_when_a_service_changes(client: Client, categories: Any) -> None:
    before = fetch(client, "discovery", "json")[1]["changeset"]
    categories.lamp.description = "楼道、电梯厅的灯"
    categories.lamp.save()
    after = fetch(client, "discovery", "json")[1]["changeset"]
    assert after >= before  # sortable
    assert parse_datetime(after) is not None and parse_datetime(after).tzinfo is not None


def test_services_are_the_active_leaf_categories_grouped_by_parent(
    client: Client, categories: Any
) -> None:
    CategoryFactory(code="t-old", name="停用", is_active=False)
    CategoryFactory(
        code="t-old-child", name="停用的子类", parent=categories.repair, is_active=False
    )
    status, doc = fetch(client, "v2/services", "json")
    assert status == 200
    by_code = {s["service_code"]: s for s in doc}
    # The parent 房屋维修 groups; its subcategory 漏水 is the service.
    assert set(by_code) == {"t-leak", "t-lamp", "t-noise", "t-suggestion"}
    leak = by_code["t-leak"]
    assert leak == {
        "service_code": "t-leak",
        "service_name": "漏水",
        "description": "",
        "metadata": True,
        "type": "realtime",
        "keywords": "漏水, 房屋维修",
        "group": "房屋维修",
    }
    assert by_code["t-lamp"]["metadata"] is False
    assert by_code["t-lamp"]["group"] == ""

    status, root = fetch(client, "v2/services", "xml")
    assert root.tag == "services"
    services_xml = {text(s["service_code"]): s for s in xml_items(root)}
    assert set(services_xml) == set(by_code)
    assert text(services_xml["t-leak"]["metadata"]) == "true"
    assert text(services_xml["t-lamp"]["metadata"]) == "false"
    assert text(services_xml["t-leak"]["group"]) == "房屋维修"
    assert text(services_xml["t-leak"]["type"]) == "realtime"


def test_services_without_suffix_answer_xml(client: Client, categories: Any) -> None:
    response = client.get("/open311/v2/services")
    assert response.status_code == 200
    assert parse(response, "xml").tag == "services"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_jurisdiction_is_404_in_the_spec_format(
    client: Client, categories: Any, world: Any, fmt: str
) -> None:
    status, doc = fetch(client, "v2/services", fmt, jurisdiction_id="nowhere.example")
    assert status == 404
    (description,) = errors_of(status, doc, fmt)
    assert "nowhere.example" in description
    status, doc = fetch(client, "v2/services", fmt, jurisdiction_id=world.home.code)
    assert status == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_lists_the_category_questions(
    client: Client, categories: Any, fmt: str
) -> None:
    status, doc = fetch(client, "v2/services/t-leak", fmt)
    assert status == 200
    if fmt == "json":
        assert doc == {
            "service_code": "t-leak",
            "attributes": [
                {
                    "variable": True,
                    "code": "where",
                    "datatype": "singlevaluelist",
                    "required": True,
                    "datatype_description": None,
                    "order": 1,
                    "description": "漏水位置",
                    "values": [
                        {"key": "ceiling", "name": "天花板"},
                        {"key": "pipe", "name": "管道"},
                    ],
                }
            ],
        }
    else:
        assert doc.tag == "service_definition"
        assert text(doc.find("service_code")) == "t-leak"
        (attribute,) = doc.find("attributes")
        assert text(attribute.find("variable")) == "true"
        assert text(attribute.find("code")) == "where"
        assert text(attribute.find("datatype")) == "singlevaluelist"
        assert text(attribute.find("required")) == "true"
        assert text(attribute.find("order")) == "1"
        values = [(text(v.find("key")), text(v.find("name"))) for v in attribute.find("values")]
        assert values == [("ceiling", "天花板"), ("pipe", "管道")]


@pytest.mark.parametrize("code", ["t-nothing", "t-repair"])
def test_service_definition_of_a_non_service_is_404(
    client: Client, categories: Any, code: str
) -> None:
    # t-repair is a group (it has subcategories), not a service.
    for fmt in ("json", "xml"):
        status, doc = fetch(client, f"v2/services/{code}", fmt)
        assert status == 404
        assert code in errors_of(status, doc, fmt)[0]


def test_unknown_format_and_unknown_path_are_404_documents(client: Client, categories: Any) -> None:
    response = client.get("/open311/v2/services.html")
    assert response.status_code == 404
    assert parse(response, "xml").tag == "errors"
    response = client.get("/open311/v2/nothing.json")
    assert response.status_code == 404
    assert json.loads(response.content)[0]["code"] == 404


def test_wrong_method_is_refused_with_allow(client: Client, categories: Any) -> None:
    response = client.post("/open311/v2/services.json", {})
    assert response.status_code == 405
    assert "GET" in response["Allow"]


# --- POST requests -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("key", [None, "not-a-key"])
def test_post_without_a_valid_key_is_403(
    client: Client, categories: Any, api_key: str, fmt: str, key: str | None
) -> None:
    data = leak_request(api_key)
    if key is None:
        del data["api_key"]
    else:
        data["api_key"] = key
    response = post(client, fmt, data)
    assert response.status_code == 403
    assert errors_of(403, parse(response, fmt), fmt)
    assert not Grievance.objects.exists()


def test_post_with_a_deactivated_key_is_403(client: Client, categories: Any, api_key: str) -> None:
    Open311Client.objects.update(is_active=False)
    assert post(client, "json", leak_request(api_key)).status_code == 403


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_files_a_grievance_for_the_key_community(
    client: Client, categories: Any, api_key: str, world: Any, fmt: str
) -> None:
    response = post(client, fmt, leak_request(api_key, jurisdiction_id=world.home.code))
    assert response.status_code == 200, response.content
    doc = parse(response, fmt)
    if fmt == "json":
        (created,) = doc
    else:
        assert doc.tag == "service_requests"
        (item,) = xml_items(doc)
        created = {k: text(v) or None for k, v in item.items()}
    assert isinstance(created["service_request_id"], str)
    assert created["account_id"] == "u-42"
    assert created["service_notice"]
    grievance = Grievance.objects.get(pk=int(created["service_request_id"]))
    open311_client = Open311Client.objects.get()
    assert grievance.channel == Channel.OPEN311
    assert grievance.community == world.home
    assert grievance.category == categories.leak
    assert grievance.source_ref == f"open311:{open311_client.pk}"
    assert grievance.attributes == {"where": "ceiling"}
    assert grievance.caller_name == "张建国"
    assert grievance.caller_phone == CALLER_PHONE
    assert str(grievance.latitude) == "31.230416"
    assert grievance.description == "厨房天花板漏水，水一直滴"
    assert grievance.is_public
    assert grievance.timeline.filter(kind=TimelineEvent.Kind.CREATED).exists()
    assert open311_client.last_used_at is not None


def test_post_is_not_held_up_by_csrf(categories: Any, api_key: str) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    assert post(csrf_client, "json", leak_request(api_key)).status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "attributes",
    [
        {"attribute[where]": "roof"},  # not among the listed answers
        {"attribute[where]": ""},  # required
        {"attribute[where]": "pipe", "attribute[colour]": "red"},  # not asked
    ],
)
def test_post_with_a_bad_attribute_is_400_naming_it(
    client: Client, categories: Any, api_key: str, fmt: str, attributes: dict[str, str]
) -> None:
    data = leak_request(api_key)
    del data["attribute[where]"]
    data.update(attributes)
    response = post(client, fmt, data)
    assert response.status_code == 400
    descriptions = errors_of(400, parse(response, fmt), fmt)
    bad = "colour" if "attribute[colour]" in attributes else "where"
    assert any(bad in d for d in descriptions), descriptions
    assert not Grievance.objects.exists()


def test_post_takes_several_values_of_a_multivaluelist(
    client: Client, categories: Any, api_key: str
) -> None:
    categories.lamp.attributes = [
        {
            "code": "floors",
            "datatype": "multivaluelist",
            "required": True,
            "description": "哪几层",
            "values": [{"key": "1", "name": "一楼"}, {"key": "2", "name": "二楼"}],
        }
    ]
    categories.lamp.save()
    data = {
        "api_key": api_key,
        "service_code": "t-lamp",
        "address_id": "",
        "address_string": "幸福路8号",
        "attribute[floors][]": ["1", "2"],
    }
    response = post(client, "json", data)
    assert response.status_code == 200, response.content
    grievance = Grievance.objects.get()
    assert grievance.attributes == {"floors": ["1", "2"]}
    assert grievance.address == "幸福路8号"
    # No description: the service's name stands in.
    assert grievance.description == "楼道照明"


@pytest.mark.parametrize(
    ("change", "status", "word"),
    [
        ({"lat": "", "long": ""}, 400, "address_string"),
        ({"long": ""}, 400, "long"),
        ({"service_code": ""}, 400, "service_code"),
        ({"service_code": "t-nothing"}, 404, "t-nothing"),
        ({"service_code": "t-repair"}, 404, "t-repair"),
        ({"lat": "95", "long": "121"}, 400, "lat"),
        ({"description": "漏" * 4001}, 400, "4000"),
        ({"address_id": "999999"}, 400, "999999"),
        ({"jurisdiction_id": "nowhere"}, 404, "nowhere"),
    ],
)
def test_post_refusals_say_what_is_wrong(
    client: Client,
    categories: Any,
    api_key: str,
    change: dict[str, str],
    status: int,
    word: str,
) -> None:
    response = post(client, "json", leak_request(api_key, **change))
    assert response.status_code == status
    descriptions = errors_of(status, parse(response, "json"), "json")
    assert any(word in d for d in descriptions), descriptions
    assert not Grievance.objects.exists()


def test_post_into_another_jurisdiction_is_403(
    client: Client, categories: Any, api_key: str, world: Any
) -> None:
    response = post(client, "json", leak_request(api_key, jurisdiction_id=world.other.code))
    assert response.status_code == 403
    assert not Grievance.objects.exists()


def test_post_with_address_id_files_at_that_building(
    client: Client, categories: Any, api_key: str, world: Any
) -> None:
    data = leak_request(api_key, lat="", long="", address_id=str(world.building_a.pk))
    assert post(client, "json", data).status_code == 200
    grievance = Grievance.objects.get()
    assert grievance.building == world.building_a
    assert grievance.estate == world.estate
    # A building of another community is not an address of this jurisdiction.
    data["address_id"] = str(world.other_building.pk)
    assert post(client, "json", data).status_code == 400


# --- GET requests --------------------------------------------------------------------------


@pytest.fixture
def mixed(flow: Any, categories: Any, world: Any) -> dict[str, Grievance]:
    """One grievance of each kind a reader must or must not see."""
    return {
        "public": flow.file(building=world.building_a),
        "private": flow.file(category=categories.dispute, description="楼上邻居半夜跺脚"),
        "anonymous": flow.file(
            channel=Channel.SUGGESTION_BOX,
            category=categories.suggestion,
            submitted_by=flow.staff,
            is_anonymous=True,
            description="希望增加快递柜",
        ),
    }


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_requests_shows_only_public_grievances(
    client: Client, mixed: dict[str, Any], fmt: str
) -> None:
    rows = requests_of(client, fmt, **AROUND_NOW)
    assert [r["service_request_id"] for r in rows] == [str(mixed["public"].pk)]
    for key in ("private", "anonymous"):
        grievance = mixed[key]
        status, doc = fetch(client, f"v2/requests/{grievance.pk}", fmt)
        assert status == 404
        # Exactly what an id that never existed answers.
        unknown_status, unknown = fetch(client, f"v2/requests/{grievance.pk + 1000}", fmt)
        assert unknown_status == 404
        assert errors_of(status, doc, fmt) == [
            d.replace(str(grievance.pk + 1000), str(grievance.pk))
            for d in errors_of(unknown_status, unknown, fmt)
        ]
        # Nor through the id list.
        assert requests_of(client, fmt, service_request_id=str(grievance.pk)) == []


def test_outsider_logged_in_is_denied_the_private_one_too(
    client: Client, mixed: dict[str, Any], outsider: Any
) -> None:
    client.force_login(outsider)
    assert client.get(f"/open311/v2/requests/{mixed['private'].pk}.json").status_code == 404
    assert client.get(f"/open311/v2/requests/{mixed['anonymous'].pk}.xml").status_code == 404


def test_a_category_made_private_later_disappears(
    client: Client, mixed: dict[str, Any], categories: Any
) -> None:
    Category.objects.filter(pk=categories.lamp.pk).update(is_private=True)
    assert requests_of(client, "json", **AROUND_NOW) == []
    assert client.get(f"/open311/v2/requests/{mixed['public'].pk}.json").status_code == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_single_request_is_a_list_of_one_with_every_field(
    client: Client, flow: Any, world: Any, fmt: str
) -> None:
    grievance = flow.file(building=world.building_a, latitude="31.230416", longitude="121.473701")
    status, doc = fetch(client, f"v2/requests/{grievance.pk}", fmt)
    assert status == 200
    if fmt == "json":
        (row,) = doc
        assert row["lat"] == pytest.approx(31.230416)
        assert row["long"] == pytest.approx(121.473701)
        assert row["media_url"] is None
    else:
        assert doc.tag == "service_requests"
        (item,) = xml_items(doc)
        row = {k: text(v) for k, v in item.items()}
        assert float(row["lat"]) == pytest.approx(31.230416)
        assert row["media_url"] == ""
    assert list(row) == [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]
    assert row["service_request_id"] == str(grievance.pk)
    assert row["status"] == "open"
    assert row["service_code"] == "t-lamp"
    assert row["service_name"] == "楼道照明"
    assert row["description"] == "晚上上楼看不见"
    assert row["address"] == f"{world.estate.name} {world.building_a.number}"
    assert row["address_id"] == str(world.building_a.pk)
    requested = parse_datetime(row["requested_datetime"])
    assert requested == grievance.submitted_at
    assert row["requested_datetime"].endswith("+08:00")
    assert row["agency_responsible"] == world.home.name


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_no_personal_data_leaves(
    client: Client, flow: Any, world: Any, staff: Any, fmt: str
) -> None:
    Household.objects.filter(pk=world.resident_a.household_id).update(room="甲1703")
    grievance = flow.file(
        channel=Channel.HOTLINE,
        submitted_by=staff,
        reporter=world.resident_a,
        caller_name="张建国",
        caller_phone=CALLER_PHONE,
        description="楼道灯坏了",
    )
    services.grievance_progress_add(
        grievance=grievance,
        actor=staff,
        note=f"内部：回访 {CALLER_PHONE}",
        is_public=False,
        now=flow.tick(),
    )
    for path in ("v2/requests", f"v2/requests/{grievance.pk}"):
        params = AROUND_NOW if path == "v2/requests" else {}
        response = client.get(f"/open311/{path}.{fmt}", params)
        assert response.status_code == 200
        body = response.content.decode("utf-8")
        assert str(grievance.pk) in body
        assert CALLER_PHONE not in body
        assert "张建国" not in body  # the caller, who is also the reporter
        assert "内部" not in body  # internal note
        assert "甲1703" not in body and "单元" not in body  # the home: room and unit


def test_statuses_map_to_open_and_closed_with_public_notes(
    client: Client, flow: Any, staff: Any, categories: Any
) -> None:
    submitted = flow.file()
    accepted = flow.accepted()
    waiting = flow.on_site()
    services.grievance_wait(
        grievance=waiting, actor=flow.property_staff, reason="等配件", now=flow.tick()
    )
    resolved = flow.resolved()
    rejected = services.grievance_reject(
        grievance=flow.file(), actor=staff, reason="不属于社区管辖", now=flow.tick()
    )
    merged = services.grievance_merge(
        grievance=flow.file(), into=accepted, actor=staff, now=flow.tick()
    )
    hidden_target = flow.file(category=categories.dispute)
    merged_into_private = services.grievance_merge(
        grievance=flow.file(), into=hidden_target, actor=staff, now=flow.tick()
    )
    services.grievance_progress_add(
        grievance=accepted, actor=staff, note="已联系电工", is_public=True, now=flow.tick()
    )
    rows = {int(r["service_request_id"]): r for r in requests_of(client, "json", **AROUND_NOW)}
    assert rows[submitted.pk]["status"] == "open"
    assert rows[accepted.pk]["status"] == "open"
    assert rows[accepted.pk]["status_notes"] == "已联系电工"
    assert rows[waiting.pk]["status"] == "open"
    assert rows[waiting.pk]["status_notes"] == "等配件"
    assert rows[resolved.pk]["status"] == "closed"
    assert rows[resolved.pk]["status_notes"] == "换了灯泡"
    assert rows[rejected.pk]["status"] == "closed"
    assert rows[rejected.pk]["status_notes"] == "不属于社区管辖"
    assert rows[merged.pk]["status"] == "closed"
    assert str(accepted.pk) in rows[merged.pk]["status_notes"]
    # Merged into a grievance nobody may read: its number is not given away.
    assert rows[merged_into_private.pk]["status"] == "closed"
    assert str(hidden_target.pk) not in (rows[merged_into_private.pk]["status_notes"] or "")

    only_closed = requests_of(client, "xml", status="closed", **AROUND_NOW)
    assert {int(r["service_request_id"]) for r in only_closed} == {
        resolved.pk,
        rejected.pk,
        merged.pk,
        merged_into_private.pk,
    }
    only_open = requests_of(client, "json", status="open", **AROUND_NOW)
    assert {int(r["service_request_id"]) for r in only_open} == {
        submitted.pk,
        accepted.pk,
        waiting.pk,
    }
    both = requests_of(client, "json", status="open,closed", **AROUND_NOW)
    assert len(both) == 7


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_expected_datetime_is_the_live_promise_to_fix_it(
    client: Client, flow: Any, fmt: str
) -> None:
    grievance, _dispatch = flow.taken()  # 1715: arrive in 10 minutes, resolve in an hour
    resolve = SlaClock.objects.get(grievance=grievance, kind="resolve")
    row = requests_of(client, fmt, service_request_id=str(grievance.pk))[0]
    assert parse_datetime(row["expected_datetime"]) == resolve.due_at
    assert row["expected_datetime"].endswith("+08:00")
    assert row["agency_responsible"] == flow.world.property_company.name
    # Not yet accepted by anyone: no promise running, no expected date.
    fresh = flow.file()
    row = requests_of(client, fmt, service_request_id=str(fresh.pk))[0]
    assert row["expected_datetime"] in ("", None)


def test_expected_datetime_of_a_paused_clock_is_its_time_left_from_now(
    client: Client, flow: Any
) -> None:
    grievance = flow.on_site()
    services.grievance_wait(
        grievance=grievance, actor=flow.property_staff, reason="等配件", now=flow.tick()
    )
    resolve = SlaClock.objects.get(grievance=grievance, kind="resolve")
    assert resolve.state == SlaClock.State.PAUSED and resolve.paused_at is not None
    left = resolve.due_at - resolve.paused_at
    before = timezone.now()
    row = requests_of(client, "json", service_request_id=str(grievance.pk))[0]
    expected = parse_datetime(row["expected_datetime"])
    assert expected is not None
    assert before + left - dt.timedelta(seconds=1) <= expected <= timezone.now() + left


def test_filters_by_id_list_service_and_date(
    client: Client, flow: Any, categories: Any, world: Any
) -> None:
    lamp = flow.file()
    leak = flow.file(category=categories.leak, attributes={"where": "pipe"})
    recent = GrievanceFactory(
        community=world.home,
        category=categories.lamp,
        is_public=True,
        submitted_at=timezone.now() - dt.timedelta(days=1),
    )
    old = GrievanceFactory(
        community=world.home,
        category=categories.lamp,
        is_public=True,
        submitted_at=timezone.now() - dt.timedelta(days=100),
    )

    def ids(**params: Any) -> set[int]:
        return {int(r["service_request_id"]) for r in requests_of(client, "json", **params)}

    # Default: the last 90 days.
    assert ids() == {recent.pk}
    assert ids(service_code="t-leak", **AROUND_NOW) == {leak.pk}
    assert ids(service_code="t-leak,t-lamp", **AROUND_NOW) == {lamp.pk, leak.pk}
    # The id list overrides every other argument (dates included).
    assert ids(service_request_id=f"{old.pk},{lamp.pk},x", service_code="t-leak") == {
        old.pk,
        lamp.pk,
    }
    # A '+' of the offset that arrived as a space (unencoded query string) still counts.
    assert ids(start_date="2026-03-01T00:00:00 08:00", end_date="2026-03-03T00:00:00Z") == {
        lamp.pk,
        leak.pk,
    }
    assert ids(jurisdiction_id=world.other.code, **AROUND_NOW) == set()
    assert ids(jurisdiction_id=world.home.code, **AROUND_NOW) == {lamp.pk, leak.pk}
    # Newest first, and paged.
    first = requests_of(client, "json", page_size="1", **AROUND_NOW)
    second = requests_of(client, "json", page_size="1", page="2", **AROUND_NOW)
    assert [int(first[0]["service_request_id"]), int(second[0]["service_request_id"])] == [
        leak.pk,
        lamp.pk,
    ]


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"status": "pending"}, "status"),
        ({"start_date": "2026-03-01T00:00:00"}, "start_date"),  # no time zone
        ({"end_date": "yesterday"}, "end_date"),
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
            "90",
        ),
        ({"start_date": "2026-03-02T00:00:00Z", "end_date": "2026-03-01T00:00:00Z"}, "end_date"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_list_arguments_are_400(
    client: Client, categories: Any, params: dict[str, str], word: str
) -> None:
    for fmt in ("json", "xml"):
        status, doc = fetch(client, "v2/requests", fmt, **params)
        assert status == 400
        assert any(word in d for d in errors_of(status, doc, fmt))


def test_list_costs_the_same_queries_for_two_or_ten_requests(client: Client, flow: Any) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/open311/v2/requests.xml", AROUND_NOW).status_code == 200
        return len(queries)

    flow.taken()
    flow.file()
    small = count()
    for _ in range(4):
        flow.taken()
        flow.resolved()
    assert len(requests_of(client, "json", **AROUND_NOW)) == 10
    assert count() == small <= 3


def test_text_xml_cannot_carry_is_dropped_not_fatal(
    client: Client, categories: Any, world: Any
) -> None:
    grievance = GrievanceFactory(
        community=world.home,
        category=categories.lamp,
        is_public=True,
        description="灯\x01坏了\x0b",
        submitted_at=NOW,
    )
    status, doc = fetch(client, f"v2/requests/{grievance.pk}", "xml")
    assert status == 200
    assert text(xml_items(doc)[0]["description"]) == "灯坏了"
    status, doc = fetch(client, f"v2/requests/{grievance.pk}", "json")
    assert doc[0]["description"] == "灯\x01坏了\x0b"


def test_tokens_are_never_issued(client: Client, categories: Any) -> None:
    status, doc = fetch(client, "v2/tokens/12345", "xml")
    assert status == 404
    assert "12345" in errors_of(status, doc, "xml")[0]


def test_too_many_requests_get_429_in_the_spec_format(
    client: Client, categories: Any, api_key: str, settings: Any
) -> None:
    settings.LINLI_OPEN311_THROTTLE_RATES = {"address": "3/min", "key": "1/min"}
    assert [client.get("/open311/v2/services.json").status_code for _ in range(3)] == [200] * 3
    response = client.get("/open311/v2/services.xml")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert errors_of(429, parse(response, "xml"), "xml")

    throttles_reset()
    # Per key: the second POST of the same client within the minute waits.
    assert post(client, "json", leak_request(api_key)).status_code == 200
    response = post(client, "json", leak_request(api_key))
    assert response.status_code == 429
    assert Grievance.objects.count() == 1
