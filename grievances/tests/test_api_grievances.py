"""/api/v1/grievances/: list, file (with photos), detail with clocks and timeline, the
action endpoints, categories, duplicates; scoping (404), refusals (400, 403, 409), token
auth and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from community.tests.factories import ResidentFactory, UserFactory
from grievances import services
from grievances.models import Attachment, Dispatch, Grievance
from grievances.tests.factories import photo_upload

pytestmark = pytest.mark.django_db

LIST = "/api/v1/grievances/"
Status = Grievance.Status


def url(pk: int, action: str = "") -> str:
    return f"{LIST}{pk}/{action + '/' if action else ''}"


@pytest.fixture
def recent(flow: Any) -> Any:
    """The flow, started three hours ago: its clocks are due around now."""
    flow.now = timezone.now() - dt.timedelta(hours=3)
    return flow


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_urls_are_under_the_grievances_api() -> None:
    assert reverse("grievances-api:list") == LIST
    assert reverse("grievances-api:detail", args=[7]) == url(7)
    assert reverse("grievances-api:categories") == LIST + "categories/"
    assert reverse("grievances-api:duplicates") == LIST + "duplicates/"
    for name, action in [
        ("accept", "accept"),
        ("dispatch", "dispatch"),
        ("dispatch-accept", "dispatch/accept"),
        ("dispatch-decline", "dispatch/decline"),
        ("check-in", "check-in"),
        ("resolve", "resolve"),
        ("rate", "rate"),
    ]:
        assert reverse(f"grievances-api:{name}", args=[7]) == url(7, action)


def test_anonymous_callers_are_refused() -> None:
    assert APIClient().get(LIST).status_code in (401, 403)


# --- scoping -------------------------------------------------------------------------------


def test_the_outsider_sees_nothing_and_is_denied_everything(
    recent: Any, outsider: Any, world: Any
) -> None:
    grievance = recent.file()
    client = api(outsider)
    assert client.get(LIST).json()["results"] == []
    assert client.get(url(grievance.pk)).status_code == 404
    for action in ("accept", "dispatch", "dispatch/accept", "dispatch/decline", "rate"):
        assert client.post(url(grievance.pk, action), {}, format="json").status_code == 404
    filed = client.post(
        LIST,
        {
            "category": recent.categories.lamp.pk,
            "title": "路灯坏了",
            "description": "晚上很黑",
            "building": world.building_a.pk,
        },
        format="json",
    )
    assert filed.status_code == 403
    assert Grievance.objects.count() == 1


def test_a_resident_of_another_household_gets_404(recent: Any, world: Any) -> None:
    grievance = recent.file()  # resident_a's, at household_a
    neighbour = UserFactory()
    world.resident_b.user = neighbour
    world.resident_b.save(update_fields=["user"])
    client = api(neighbour)
    assert client.get(url(grievance.pk)).status_code == 404
    assert client.post(url(grievance.pk, "rate"), {"solved": True, "stars": 5}).status_code == 404
    assert client.get(LIST).json()["results"] == []


def test_the_list_is_scoped_and_filtered(
    recent: Any, world: Any, resident: Any, staff: Any
) -> None:
    mine = recent.file()
    other_household = recent.file(
        submitted_by=recent.staff,
        channel=Grievance.Channel.HOTLINE,
        caller_phone="13900000000",
        reporter=world.resident_b,
    )
    overdue, _dispatch = recent.taken()  # 3 hours ago: its clocks are long past due
    suggestion = recent.file(
        category=recent.categories.suggestion, channel=Grievance.Channel.SUGGESTION_BOX
    )

    def ids(client: APIClient, **params: Any) -> set[int]:
        response = client.get(LIST, params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(api(resident)) == {mine.pk, overdue.pk, suggestion.pk}  # resident_a's own
    office = api(staff)
    assert ids(office) == {mine.pk, other_household.pk, overdue.pk, suggestion.pk}
    assert ids(office, overdue="true") == {overdue.pk}
    assert ids(office, status="dispatched") == {overdue.pk}
    assert ids(office, category=recent.categories.suggestion.pk) == {suggestion.pk}
    assert ids(office, estate=world.estate.pk) == {
        mine.pk,
        other_household.pk,
        overdue.pk,
        suggestion.pk,
    }
    assert ids(office, estate=world.other_estate.pk) == set()
    row = next(r for r in office.get(LIST).json()["results"] if r["id"] == overdue.pk)
    assert row["overdue"] is True and row["time_left_seconds"] < 0
    assert office.get(LIST, {"estate": "x"}).status_code == 400


def test_the_list_costs_the_same_queries_for_one_or_many(
    recent: Any, staff: Any, django_assert_max_num_queries: Any
) -> None:
    client = api(staff)
    recent.taken()
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    for _n in range(24):
        recent.taken()
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert len(response.json()["results"]) == 20
    assert len(many.captured_queries) == len(one.captured_queries)
    with django_assert_max_num_queries(3):  # scope, page (no COUNT with cursors) …
        client.get(LIST)


# --- detail --------------------------------------------------------------------------------


def test_detail_shows_clocks_with_time_left_and_the_timeline_per_reader(
    recent: Any, resident: Any, staff: Any
) -> None:
    grievance, _dispatch = recent.taken()
    services.grievance_progress_add(
        grievance=grievance,
        actor=staff,
        note="内部：先联系物业经理",
        now=recent.tick(),
        is_public=False,
    )
    office = api(staff).get(url(grievance.pk)).json()
    clocks = {clock["kind"]: clock for clock in office["clocks"]}
    assert set(clocks) == {"arrive", "resolve"}
    arrive = clocks["arrive"]
    assert arrive["state"] == "running" and arrive["overdue"] is True
    assert arrive["time_left_seconds"] < -2 * 3600
    assert office["dispatch"]["status"] == Dispatch.Status.ACCEPTED
    assert "内部：先联系物业经理" in [event["note"] for event in office["timeline"]]

    own = api(resident).get(url(grievance.pk)).json()
    assert "内部：先联系物业经理" not in [event["note"] for event in own["timeline"]]
    assert {clock["kind"] for clock in own["clocks"]} == {"arrive", "resolve"}


def test_detail_masks_the_phone_and_names_for_residents(
    recent: Any, world: Any, resident: Any, staff: Any
) -> None:
    world.resident_a.phone = "13912345678"
    world.resident_a.save(update_fields=["phone"])
    grievance = recent.file()
    office = api(staff).get(url(grievance.pk)).json()
    assert office["phone"] == "139****5678"
    assert office["reporter_name"] == world.resident_a.name
    own = api(resident).get(url(grievance.pk)).json()
    assert own["reporter_name"] == world.resident_a.name  # their own name


# --- filing --------------------------------------------------------------------------------


def test_a_resident_files_with_photos_in_a_multipart_post(
    recent: Any, world: Any, resident: Any
) -> None:
    response = api(resident).post(
        LIST,
        {
            "category": recent.categories.lamp.pk,
            "title": "楼道灯不亮",
            "description": "三楼楼道灯坏了",
            "photos": [photo_upload("a.jpg"), photo_upload("b.jpg")],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    grievance = Grievance.objects.get(pk=body["id"])
    assert grievance.reporter == world.resident_a
    assert grievance.community == world.home  # from the resident's home
    assert grievance.channel == Grievance.Channel.PORTAL
    assert len(body["photos"]) == 2
    assert Attachment.objects.filter(grievance=grievance).count() == 2
    assert body["photos"][0]["url"] == f"/grievances/photos/{body['photos'][0]['id']}/"
    # The answer is built from the rows just written; it is what reading it back shows.
    again = api(resident).get(url(grievance.pk)).json()
    for key in ("photos", "timeline", "clocks", "dispatch", "status", "title", "category"):
        assert body[key] == again[key], key
    assert body["timeline"][0]["photos"] == [p["id"] for p in body["photos"]]


def test_filing_with_answers_as_json(recent: Any, world: Any, resident: Any) -> None:
    response = api(resident).post(
        LIST,
        {
            "category": recent.categories.leak.pk,
            "title": "天花板漏水",
            "description": "卫生间顶上滴水",
            "building": world.building_a.pk,
            "attributes": {"where": "ceiling"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["attributes"] == {"where": "ceiling"}


def test_filing_again_with_the_same_idempotency_key_returns_the_first_grievance(
    recent: Any, world: Any, resident: Any
) -> None:
    client = api(resident)
    body = {
        "category": recent.categories.leak.pk,
        "title": "天花板漏水",
        "description": "卫生间顶上滴水",
        "building": world.building_a.pk,
        "attributes": {"where": "ceiling"},
    }
    first = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="phone-1:42")
    again = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="phone-1:42")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Grievance.objects.filter(title="天花板漏水").count() == 1
    # Another report under a used key is the client's mistake, not a replay.
    other = client.post(
        LIST, {**body, "title": "楼道灯不亮"}, format="json", HTTP_IDEMPOTENCY_KEY="phone-1:42"
    )
    assert other.status_code == 422 and other.json()["code"] == "key_reused"
    # Keys are the submitter's own: a neighbour's same key files their own grievance.
    neighbour = ResidentFactory(household=world.household_a, user=UserFactory()).user
    theirs = api(neighbour).post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="phone-1:42")
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]


def test_filing_refusals_are_400_with_messages(recent: Any, world: Any, resident: Any) -> None:
    client = api(resident)
    base = {"category": recent.categories.leak.pk, "title": "漏水", "description": "滴水"}
    missing = client.post(LIST, {**base, "attributes": {}}, format="json")
    assert missing.status_code == 400
    assert missing.json()["code"] == "invalid"
    assert "attributes" in missing.json()["errors"]
    anonymous = client.post(
        LIST, {**base, "attributes": {"where": "pipe"}, "is_anonymous": True}, format="json"
    )
    assert anonymous.status_code == 400
    assert anonymous.json()["code"] == "anonymous"
    nowhere = client.post(
        LIST,
        {**base, "attributes": {"where": "pipe"}, "latitude": "north", "longitude": "121.47"},
        format="json",
    )
    assert nowhere.status_code == 400
    assert nowhere.json()["code"] == "position"  # the field's own rule, not "invalid"
    assert list(nowhere.json()["errors"]) == ["latitude"]
    no_title = client.post(LIST, {"category": recent.categories.lamp.pk}, format="json")
    assert no_title.status_code == 400
    assert "title" in no_title.json()


def test_token_auth_files_and_reads(recent: Any, world: Any, resident: Any) -> None:
    token = Token.objects.create(user=resident)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(
        LIST,
        {
            "category": recent.categories.lamp.pk,
            "title": "路灯",
            "description": "不亮",
            "building": world.building_a.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    assert client.get(url(response.json()["id"])).status_code == 200


# --- actions -------------------------------------------------------------------------------


def test_the_whole_road_through_the_action_endpoints(
    recent: Any, world: Any, resident: Any, staff: Any, property_staff: Any
) -> None:
    grievance = recent.file()
    office, company, reporter = api(staff), api(property_staff), api(resident)

    accepted = office.post(url(grievance.pk, "accept"), {}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == Status.ACCEPTED

    sent = office.post(
        url(grievance.pk, "dispatch"),
        {"organization": world.property_company.pk, "note": "请带梯子"},
        format="json",
    )
    assert sent.json()["status"] == Status.DISPATCHED
    assert sent.json()["dispatch"]["status"] == Dispatch.Status.PENDING

    taken = company.post(url(grievance.pk, "dispatch/accept"), {}, format="json")
    assert taken.status_code == 200, taken.content
    assert {c["kind"] for c in taken.json()["clocks"]} == {"arrive", "resolve"}

    on_site = company.post(
        url(grievance.pk, "check-in"),
        {"latitude": "31.230416", "longitude": "121.473701", "photo": photo_upload()},
        format="multipart",
    )
    assert on_site.status_code == 200, on_site.content
    assert on_site.json()["status"] == Status.ON_SITE
    arrive = next(c for c in on_site.json()["clocks"] if c["kind"] == "arrive")
    assert arrive["state"] == "stopped" and arrive["time_left_seconds"] is None

    no_photo = company.post(url(grievance.pk, "resolve"), {"note": "修好了"}, format="multipart")
    assert no_photo.status_code == 400
    assert no_photo.json()["code"] == "after_photo"
    resolved = company.post(
        url(grievance.pk, "resolve"),
        {"note": "换了灯泡", "photos": [photo_upload("after.jpg")]},
        format="multipart",
    )
    assert resolved.json()["status"] == Status.RESOLVED

    rated = reporter.post(
        url(grievance.pk, "rate"), {"solved": True, "stars": 5, "comment": "谢谢"}, format="json"
    )
    assert rated.status_code == 200, rated.content
    assert rated.json()["status"] == Status.CLOSED


def test_in_scope_but_not_allowed_is_403(
    recent: Any, resident: Any, street_supervisor: Any
) -> None:
    grievance = recent.file()
    for client in (api(resident), api(street_supervisor)):
        response = client.post(url(grievance.pk, "accept"), {}, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    grievance.refresh_from_db()
    assert grievance.status == Status.SUBMITTED


def test_a_status_conflict_is_409(recent: Any, resident: Any, staff: Any) -> None:
    grievance = recent.accepted()
    office = api(staff)
    again = office.post(url(grievance.pk, "accept"), {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "transition"
    nothing_sent = office.post(url(grievance.pk, "dispatch/accept"), {}, format="json")
    assert nothing_sent.status_code == 409
    assert nothing_sent.json()["code"] == "no_dispatch"
    too_early = api(resident).post(url(grievance.pk, "rate"), {"solved": True, "stars": 4})
    assert too_early.status_code == 409


def test_declining_needs_a_reason_and_sends_it_back(recent: Any, property_staff: Any) -> None:
    grievance, _dispatch = recent.dispatched()
    company = api(property_staff)
    assert company.post(url(grievance.pk, "dispatch/decline"), {"reason": ""}).status_code == 400
    declined = company.post(
        url(grievance.pk, "dispatch/decline"), {"reason": "不在合同范围"}, format="json"
    )
    assert declined.status_code == 200, declined.content
    assert declined.json()["status"] == Status.ACCEPTED
    assert declined.json()["dispatch"] is None


def test_another_company_cannot_take_the_work_order(recent: Any, world: Any) -> None:
    from community.models import Membership, Organization
    from community.tests.factories import MembershipFactory, OrganizationFactory

    grievance, _dispatch = recent.dispatched()
    rival = UserFactory()
    MembershipFactory(
        user=rival,
        role=Membership.Role.PROPERTY_STAFF,
        organization=OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY),
    )
    assert api(rival).post(url(grievance.pk, "dispatch/accept"), {}).status_code == 404


# --- categories, duplicates, schema --------------------------------------------------------


def test_categories_list_leaves_with_their_questions(recent: Any, outsider: Any) -> None:
    rows = {row["code"]: row for row in api(outsider).get(LIST + "categories/").json()}
    assert "t-repair" not in rows  # a parent: file under one of its children
    leak = rows["t-leak"]
    assert leak["parent_name"] == "房屋维修"
    assert leak["attributes"][0]["code"] == "where"
    assert rows["t-noise"]["is_private"] is True


def test_duplicates_are_the_open_ones_the_caller_may_see(
    recent: Any, world: Any, resident: Any, staff: Any
) -> None:
    mine = recent.file(building=world.building_a)
    ResidentFactory(household=world.household_a)
    params = {"category": recent.categories.lamp.pk, "building": world.building_a.pk}
    assert [r["id"] for r in api(staff).get(LIST + "duplicates/", params).json()] == [mine.pk]
    assert [r["id"] for r in api(resident).get(LIST + "duplicates/", params).json()] == [mine.pk]
    stranger = UserFactory()
    assert api(stranger).get(LIST + "duplicates/", params).json() == []
    assert api(staff).get(LIST + "duplicates/", {"category": "x"}).status_code == 400


def test_the_schema_documents_every_endpoint(staff: Any) -> None:
    response = api(staff).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/v1/grievances/",
        "/api/v1/grievances/{id}/",
        "/api/v1/grievances/{id}/accept/",
        "/api/v1/grievances/{id}/dispatch/",
        "/api/v1/grievances/{id}/dispatch/accept/",
        "/api/v1/grievances/{id}/dispatch/decline/",
        "/api/v1/grievances/{id}/check-in/",
        "/api/v1/grievances/{id}/resolve/",
        "/api/v1/grievances/{id}/rate/",
        "/api/v1/grievances/categories/",
        "/api/v1/grievances/duplicates/",
    ):
        assert f'"{path}"' in text, path
    assert "time_left_seconds" in text


@pytest.mark.parametrize("inherited", [False, True], ids=["own policy", "parent's policy"])
def test_filing_starts_the_clocks_a_policy_starts_on_submission(
    world: Any, staff: Any, inherited: bool
) -> None:
    from grievances.models import Trigger
    from grievances.tests.factories_sla import (
        SlaCategoryFactory,
        SlaClockSpecFactory,
        SlaPolicyFactory,
    )

    on_submission = SlaPolicyFactory()
    SlaClockSpecFactory(policy=on_submission, start_on=Trigger.SUBMITTED)
    quiet = SlaPolicyFactory()
    SlaClockSpecFactory(policy=quiet, start_on=Trigger.DISPATCH_ACCEPTED)

    def leaf(policy: Any) -> Any:
        if not inherited:
            return SlaCategoryFactory(sla_policy=policy)
        return SlaCategoryFactory(sla_policy=None, parent=SlaCategoryFactory(sla_policy=policy))

    def file(category: Any) -> list[str]:
        response = api(staff).post(
            LIST,
            {
                "category": category.pk,
                "channel": "hotline",
                "caller_phone": "13812345678",
                "title": "楼道灯不亮",
                "description": "三楼楼道灯坏了",
                "building": world.building_a.pk,
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        return [clock["kind"] for clock in response.json()["clocks"]]

    assert file(leaf(on_submission)) == ["resolve"]
    assert file(leaf(quiet)) == []
