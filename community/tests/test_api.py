from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from community.models import ResidentTag
from community.tests.factories import (
    BuildingFactory,
    GridFactory,
    HouseholdFactory,
    ResidentFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/residents/", "/api/v1/households/", "/api/v1/buildings/", "/api/v1/grids/"]


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)  # a fresh user (and scope) per request, as in production
    return client


def ids(response: Any) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("url", LISTS)
def test_anonymous_is_refused(world: Any, url: str) -> None:
    assert api().get(url).status_code in (401, 403)


@pytest.mark.parametrize("url", LISTS)
def test_outsider_gets_empty_lists(world: Any, outsider: Any, url: str) -> None:
    response = api(outsider).get(url)
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_outsider_gets_404_on_every_detail(world: Any, outsider: Any) -> None:
    client = api(outsider)
    assert client.get(f"/api/v1/residents/{world.resident_a.pk}/").status_code == 404
    assert client.get(f"/api/v1/households/{world.household_a.pk}/").status_code == 404
    assert client.get(f"/api/v1/buildings/{world.building_a.pk}/").status_code == 404


def test_grid_worker_gets_404_outside_their_grid(world: Any, grid_worker: Any) -> None:
    client = api(grid_worker)
    assert client.get(f"/api/v1/residents/{world.resident_a.pk}/").status_code == 200
    assert client.get(f"/api/v1/residents/{world.resident_b.pk}/").status_code == 404
    assert client.get(f"/api/v1/residents/{world.other_resident.pk}/").status_code == 404
    assert ids(client.get("/api/v1/buildings/")) == {world.building_a.pk}


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("resident", {"resident_a"}),
        ("grid_worker", {"resident_a"}),
        ("staff", {"resident_a", "resident_b"}),
        ("property_staff", {"resident_a", "resident_b"}),
        ("street_supervisor", {"resident_a", "resident_b", "other_resident"}),
    ],
)
def test_resident_list_is_scoped(world: Any, request: Any, persona: str, visible: set[str]) -> None:
    user = request.getfixturevalue(persona)
    expected = {getattr(world, name).pk for name in visible}
    assert ids(api(user).get("/api/v1/residents/")) == expected


def test_resident_api_masks_phone_and_id(world: Any, staff: Any) -> None:
    row = api(staff).get(f"/api/v1/residents/{world.resident_a.pk}/").json()
    assert row["phone"] == world.resident_a.phone[:3] + "****" + world.resident_a.phone[-4:]
    assert row["id_number"] == world.resident_a.id_number_masked
    assert "********" in row["id_number"]
    assert "id_number_ciphertext" not in row and "id_number_hash" not in row


def test_household_detail_lists_members(world: Any, resident: Any) -> None:
    ResidentFactory(household=world.household_a, name="张小明")
    body = api(resident).get(f"/api/v1/households/{world.household_a.pk}/").json()
    assert {m["name"] for m in body["residents"]} == {"张建国", "张小明"}


def test_token_auth_for_apps(world: Any, staff: Any) -> None:
    token = Token.objects.create(user=staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/residents/").status_code == 200


def test_cursor_pagination_walks_every_resident_once(world: Any, staff: Any) -> None:
    for _ in range(7):
        ResidentFactory(household=world.household_b)
    client = api(staff)
    seen: list[int] = []
    url = "/api/v1/residents/?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 9


def _many(world: Any, n: int) -> None:
    tags = [ResidentTag.objects.create(code=f"t{i}", name=f"标签{i}") for i in range(2)]
    for i in range(n):
        grid = GridFactory(community=world.home)
        building = BuildingFactory(estate=world.estate, grid=grid)
        household = HouseholdFactory(unit=UnitFactory(building=building))
        resident = ResidentFactory(household=household)
        resident.tags.set(tags[: i % 3])


@pytest.mark.parametrize("url", LISTS)
def test_list_query_count_does_not_grow_with_page_size(world: Any, staff: Any, url: str) -> None:
    _many(world, 30)
    client = api(staff)
    counts = []
    for size in (1, 25):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{url}?page_size={size}")
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts


def test_resident_list_query_count_is_pinned(
    world: Any, staff: Any, django_assert_max_num_queries: Any
) -> None:
    _many(world, 25)
    client = api(staff)
    # session, user, scope (roles and own household in one), residents, tags
    with django_assert_max_num_queries(5):
        client.get("/api/v1/residents/?page_size=20")


def test_bad_filter_gets_a_400(world: Any, staff: Any) -> None:
    assert api(staff).get("/api/v1/residents/?estate=abc").status_code == 400


def test_schema_and_docs_are_served_offline(client: Any, staff: Any) -> None:
    client.force_login(staff)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/residents/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "http://" not in docs.replace("http://testserver", "") and "cdn" not in docs.lower()


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("resident", {"resident_a"}),
        ("grid_worker", {"resident_a"}),
        ("staff", {"resident_a", "resident_b"}),
        ("property_staff", {"resident_a", "resident_b"}),
        ("street_supervisor", {"resident_a", "resident_b", "other_resident"}),
        ("outsider", set()),
    ],
)
def test_resident_detail_follows_the_same_scope_as_the_list(
    world: Any, request: Any, persona: str, visible: set[str]
) -> None:
    client = api(request.getfixturevalue(persona))
    for name in ("resident_a", "resident_b", "other_resident"):
        response = client.get(f"/api/v1/residents/{getattr(world, name).pk}/")
        assert response.status_code == (200 if name in visible else 404), (persona, name)


def test_detail_and_list_show_the_same_tags(world: Any, staff: Any) -> None:
    tags = [ResidentTag.objects.create(code=code, name=code) for code in ("veteran-x", "alone-x")]
    world.resident_a.tags.set(tags)
    client = api(staff)
    detail = client.get(f"/api/v1/residents/{world.resident_a.pk}/").json()
    listed = {row["id"]: row for row in client.get("/api/v1/residents/").json()["results"]}
    assert detail["tags"] == ["alone-x", "veteran-x"]
    assert listed[world.resident_a.pk]["tags"] == detail["tags"]
    assert client.get(f"/api/v1/residents/{world.resident_b.pk}/").json()["tags"] == []
