"""/api/v1/credit/ of the credit supermarket: catalogue, my redemptions, redeem, hand over."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from credit.models import PointsAccount, PointsEntry, Redemption
from credit.services.supermarket import redemption_create
from credit.tests.test_supermarket import fund, make_clerk, make_item
from credit.tests.test_views_shop import open_always

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/credit/shop/items/"
REDEMPTIONS = "/api/v1/credit/shop/redemptions/"
FULFIL = "/api/v1/credit/clerk/fulfil/"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def shop(world: Any, resident: Any) -> dict[str, Any]:
    open_always(world.home)
    fund(world, world.resident_a, 100)
    return {"item": make_item(world.home, name="洗衣液", points_price=30)}


def test_urls_are_under_the_credit_api() -> None:
    assert reverse("credit-api:shop-item-list") == ITEMS
    assert reverse("credit-api:shop-redemption-list") == REDEMPTIONS
    assert reverse("credit-api:clerk-fulfil") == FULFIL


def test_catalogue_lists_my_communitys_items_with_flags(
    api: APIClient, world: Any, resident: Any, shop: Any
) -> None:
    make_item(world.home, name="电饭煲", points_price=500)
    make_item(world.other, name="别处")
    api.force_authenticate(resident)
    rows = {r["name"]: r for r in api.get(ITEMS).json()["results"]}
    assert set(rows) == {"洗衣液", "电饭煲"}
    assert rows["洗衣液"]["can_afford"] is True
    assert rows["电饭煲"]["can_afford"] is False
    affordable = api.get(ITEMS, {"affordable": "true"}).json()["results"]
    assert [r["name"] for r in affordable] == ["洗衣液"]


def test_redeem_needs_an_idempotency_key(api: APIClient, resident: Any, shop: Any) -> None:
    api.force_authenticate(resident)
    response = api.post(REDEMPTIONS, {"item": shop["item"].pk}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "key"
    assert not Redemption.objects.exists()


def test_redeem_creates_then_replays(api: APIClient, world: Any, resident: Any, shop: Any) -> None:
    api.force_authenticate(resident)
    first = api.post(
        REDEMPTIONS, {"item": shop["item"].pk}, format="json", HTTP_IDEMPOTENCY_KEY="abc"
    )
    again = api.post(
        REDEMPTIONS, {"item": shop["item"].pk}, format="json", HTTP_IDEMPOTENCY_KEY="abc"
    )
    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["status"] == "reserved"
    assert len(first.json()["pickup_code"]) == 8
    assert PointsEntry.objects.filter(kind=PointsEntry.Kind.REDEMPTION).count() == 1
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 70


def test_redeem_refusals_are_400_with_a_code(
    api: APIClient, world: Any, resident: Any, shop: Any
) -> None:
    dear = make_item(world.home, points_price=500)
    api.force_authenticate(resident)
    response = api.post(REDEMPTIONS, {"item": dear.pk}, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert response.status_code == 400
    assert response.json()["code"] == "insufficient"


def test_redeeming_an_item_of_another_community_is_404(
    api: APIClient, world: Any, resident: Any, shop: Any
) -> None:
    elsewhere = make_item(world.other)
    api.force_authenticate(resident)
    response = api.post(
        REDEMPTIONS, {"item": elsewhere.pk}, format="json", HTTP_IDEMPOTENCY_KEY="x"
    )
    assert response.status_code == 404


def test_my_redemptions_are_cursor_paged_and_only_mine(
    api: APIClient, world: Any, resident: Any, shop: Any
) -> None:
    item = make_item(world.home, points_price=1, stock=None)
    for n in range(5):
        redemption_create(resident=world.resident_a, item=item, key=f"k{n}", now=timezone.now())
    fund(world, world.resident_b, 10)
    redemption_create(resident=world.resident_b, item=item, key="b", now=timezone.now())
    api.force_authenticate(resident)
    page = api.get(REDEMPTIONS, {"page_size": 3}).json()
    assert len(page["results"]) == 3
    assert page["next"]
    rest = api.get(page["next"]).json()
    ids = [r["id"] for r in page["results"] + rest["results"]]
    assert len(ids) == 5
    assert ids == sorted(ids, reverse=True)
    mine = set(Redemption.objects.filter(resident=world.resident_a).values_list("id", flat=True))
    assert set(ids) == mine


def test_clerk_fulfils_by_code_once(api: APIClient, world: Any, shop: Any) -> None:
    redemption = redemption_create(
        resident=world.resident_a, item=shop["item"], key="k", now=timezone.now()
    )
    api.force_authenticate(make_clerk(world.home))
    done = api.post(FULFIL, {"code": redemption.pickup_code}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "fulfilled"
    assert done.json()["resident_name"] == world.resident_a.name
    again = api.post(FULFIL, {"code": redemption.pickup_code}, format="json")
    assert again.status_code == 400
    assert again.json()["code"] == "used"
    assert api.post(FULFIL, {"code": "ZZZZ2222"}, format="json").status_code == 404


def test_clerk_of_another_community_gets_404(api: APIClient, world: Any, shop: Any) -> None:
    redemption = redemption_create(
        resident=world.resident_a, item=shop["item"], key="k", now=timezone.now()
    )
    api.force_authenticate(make_clerk(world.other))
    assert api.post(FULFIL, {"code": redemption.pickup_code}, format="json").status_code == 404
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.RESERVED


def test_outsider_is_denied(api: APIClient, world: Any, outsider: Any, shop: Any) -> None:
    api.force_authenticate(outsider)
    assert api.get(ITEMS).status_code == 404
    assert api.get(REDEMPTIONS).status_code == 404
    response = api.post(
        REDEMPTIONS, {"item": shop["item"].pk}, format="json", HTTP_IDEMPOTENCY_KEY="x"
    )
    assert response.status_code == 404
    assert api.post(FULFIL, {"code": "ABCDEFGH"}, format="json").status_code == 404


def test_anonymous_is_unauthorized(api: APIClient, world: Any) -> None:
    assert api.get(ITEMS).status_code in (401, 403)


def test_list_query_counts_are_constant(
    api: APIClient, world: Any, resident: Any, shop: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(15):
        item = make_item(world.home, name=f"商品{n}", points_price=1, limit_per_resident=2)
        redemption_create(resident=world.resident_a, item=item, key=f"k{n}", now=timezone.now())
    api.force_authenticate(resident)
    with django_assert_max_num_queries(5):
        assert api.get(ITEMS).status_code == 200
    with django_assert_max_num_queries(5):
        assert api.get(REDEMPTIONS).status_code == 200


def test_schema_documents_the_shop(api: APIClient, staff: Any) -> None:
    api.force_authenticate(staff)
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    text = response.content.decode()
    assert response.status_code == 200
    assert "/api/v1/credit/shop/redemptions/" in text
    assert "Idempotency-Key" in text
    assert "/api/v1/credit/clerk/fulfil/" in text
