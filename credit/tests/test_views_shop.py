"""Phone pages of the credit supermarket: /points/shop/ for residents, /points/clerk/ for the desk.

Pages use the real clock, so the exchange window here is "always open" (or absent).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from community.tests.factories import ResidentFactory
from credit.models import PointsAccount, Redemption
from credit.services.supermarket import redemption_create
from credit.tests.test_supermarket import fund, make_clerk, make_item, make_window

pytestmark = pytest.mark.django_db


def open_always(community: Any) -> None:
    make_window(
        community,
        name="随时兑换",
        always_open=True,
        day_of_month=None,
        opens_at=None,
        closes_at=None,
    )


@pytest.fixture
def shop(world: Any, resident: Any) -> dict[str, Any]:
    open_always(world.home)
    fund(world, world.resident_a, 100)
    return {"item": make_item(world.home, name="洗衣液", points_price=30)}


def reserve(world: Any, item: Any, key: str = "k") -> Redemption:
    return redemption_create(resident=world.resident_a, item=item, key=key, now=timezone.now())


def form_key(html: str) -> str:
    match = re.search(r'name="key" value="([0-9a-f]+)"', html)
    assert match, "the redeem form has no idempotency key"
    return match.group(1)


def test_catalogue_shows_balance_and_items(
    client: Any, world: Any, resident: Any, shop: Any
) -> None:
    make_item(world.home, name="电饭煲", points_price=500)
    make_item(world.other, name="别处的东西")
    client.force_login(resident)
    body = client.get(reverse("credit:shop-catalogue")).content.decode()
    assert "洗衣液" in body and "电饭煲" in body
    assert "别处的东西" not in body
    assert 'class="fs-5 balance">100<' in body
    assert 'href="/points/"' in body  # the balance page of the points app


def test_only_what_i_can_afford_filter(client: Any, world: Any, resident: Any, shop: Any) -> None:
    make_item(world.home, name="电饭煲", points_price=500)
    client.force_login(resident)
    body = client.get(reverse("credit:shop-catalogue") + "?affordable=1").content.decode()
    assert "洗衣液" in body
    assert "电饭煲" not in body


def test_redeem_button_twice_with_the_same_form_redeems_once(
    client: Any, world: Any, resident: Any, shop: Any
) -> None:
    client.force_login(resident)
    url = reverse("credit:shop-item", args=[shop["item"].pk])
    key = form_key(client.get(url).content.decode())
    first = client.post(url, {"key": key})
    second = client.post(url, {"key": key})
    redemption = Redemption.objects.get()
    target = reverse("credit:shop-redemption", args=[redemption.pk])
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == target
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 70
    page = client.get(target).content.decode()
    assert redemption.pickup_code in page
    assert "<svg" in page and 'class="qr"' in page


def test_each_render_gets_a_new_key(client: Any, resident: Any, shop: Any) -> None:
    client.force_login(resident)
    url = reverse("credit:shop-item", args=[shop["item"].pk])
    assert form_key(client.get(url).content.decode()) != form_key(client.get(url).content.decode())


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("closed", "closed"),
        ("poor", "Not enough points"),
        ("empty", "out of stock"),
        ("limit", "limit"),
    ],
)
def test_refusals_show_a_clear_message(
    client: Any, world: Any, resident: Any, setup: str, message: str
) -> None:
    fund(world, world.resident_a, 100)
    if setup != "closed":
        open_always(world.home)
    item = make_item(
        world.home,
        points_price=500 if setup == "poor" else 10,
        stock=0 if setup == "empty" else 5,
        limit_per_resident=1 if setup == "limit" else None,
    )
    if setup == "limit":
        reserve(world, item, key="earlier")
    client.force_login(resident)
    client.cookies["django_language"] = "en"  # the assertions read the English msgids
    response = client.post(reverse("credit:shop-item", args=[item.pk]), {"key": "abc"})
    assert response.status_code == 400
    assert 'class="alert alert-danger"' in response.content.decode()
    assert message in response.content.decode()


def test_my_reservations_show_code_qr_and_deadline_only_mine(
    client: Any, world: Any, resident: Any, shop: Any
) -> None:
    mine = reserve(world, shop["item"])
    fund(world, world.resident_b, 100)
    theirs = redemption_create(
        resident=world.resident_b, item=shop["item"], key="k", now=timezone.now()
    )
    client.force_login(resident)
    body = client.get(reverse("credit:shop-redemptions")).content.decode()
    assert mine.pickup_code in body
    assert theirs.pickup_code not in body
    assert 'class="qr"' in body
    assert timezone.localtime(mine.expires_at).strftime("%Y-%m-%d %H:%M") in body
    url = reverse("credit:shop-redemption", args=[theirs.pk])
    assert client.get(url).status_code == 404
    cancel = reverse("credit:shop-redemption-cancel", args=[theirs.pk])
    assert client.post(cancel).status_code == 404


def test_cancel_returns_points(client: Any, world: Any, resident: Any, shop: Any) -> None:
    redemption = reserve(world, shop["item"])
    client.force_login(resident)
    response = client.post(reverse("credit:shop-redemption-cancel", args=[redemption.pk]))
    assert response.status_code == 302
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.CANCELLED
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 100


def test_clerk_looks_up_a_code_and_hands_over(client: Any, world: Any, shop: Any) -> None:
    redemption = reserve(world, shop["item"])
    clerk = make_clerk(world.home)
    client.force_login(clerk)
    desk = client.get(reverse("credit:clerk-desk")).content.decode()
    assert 'inputmode="text"' in desk and "autofocus" in desk
    found = client.get(reverse("credit:clerk-desk"), {"code": redemption.pickup_code.lower()})
    body = found.content.decode()
    assert found.status_code == 200
    assert world.resident_a.name in body and "洗衣液" in body
    response = client.post(reverse("credit:clerk-fulfil"), {"code": redemption.pickup_code})
    assert response.status_code == 302
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.FULFILLED
    assert redemption.fulfilled_by == clerk
    again = client.post(
        reverse("credit:clerk-fulfil"), {"code": redemption.pickup_code}, follow=True
    )
    assert "该取货码已使用" in again.content.decode()


def test_wrong_code_at_the_desk_is_404_with_a_message(client: Any, world: Any) -> None:
    client.force_login(make_clerk(world.home))
    client.cookies["django_language"] = "en"  # the assertions read the English msgids
    response = client.get(reverse("credit:clerk-desk"), {"code": "ZZZZ2222"})
    assert response.status_code == 404
    assert "No reservation has this pickup code" in response.content.decode()


def test_clerk_of_another_community_gets_404(client: Any, world: Any, shop: Any) -> None:
    redemption = reserve(world, shop["item"])
    client.force_login(make_clerk(world.other))
    lookup = client.get(reverse("credit:clerk-desk"), {"code": redemption.pickup_code})
    assert lookup.status_code == 404
    assert world.resident_a.name not in lookup.content.decode()
    fulfil = client.post(reverse("credit:clerk-fulfil"), {"code": redemption.pickup_code})
    assert fulfil.status_code == 404
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.RESERVED


def test_outsider_is_denied_shop_and_desk(client: Any, world: Any, outsider: Any) -> None:
    open_always(world.home)
    item = make_item(world.home)
    client.force_login(outsider)
    for url in (
        reverse("credit:shop-catalogue"),
        reverse("credit:shop-item", args=[item.pk]),
        reverse("credit:shop-redemptions"),
        reverse("credit:clerk-desk"),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("credit:clerk-fulfil"), {"code": "X"}).status_code == 404


def test_resident_is_not_a_clerk_and_items_elsewhere_are_404(
    client: Any, world: Any, resident: Any, shop: Any
) -> None:
    elsewhere = make_item(world.other)
    client.force_login(resident)
    assert client.get(reverse("credit:clerk-desk")).status_code == 404
    assert client.get(reverse("credit:shop-item", args=[elsewhere.pk])).status_code == 404


def test_anonymous_is_sent_to_login(client: Any, world: Any) -> None:
    response = client.get(reverse("credit:shop-catalogue"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_catalogue_and_reservations_query_counts_are_constant(
    client: Any, world: Any, resident: Any, shop: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(15):
        item = make_item(world.home, name=f"商品{n}", points_price=1, limit_per_resident=3)
        reserve(world, item, key=f"k{n}")
    client.force_login(resident)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("credit:shop-catalogue")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("credit:shop-redemptions")).status_code == 200


def test_desk_query_count_is_constant(
    client: Any, world: Any, shop: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(10):
        buyer = ResidentFactory(household=world.household_a)
        fund(world, buyer, 50)
        redemption_create(resident=buyer, item=shop["item"], key=f"k{n}", now=timezone.now())
    client.force_login(make_clerk(world.home))
    with django_assert_max_num_queries(8):
        assert client.get(reverse("credit:clerk-desk")).status_code == 200
