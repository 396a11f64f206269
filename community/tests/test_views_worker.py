from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from community.tests.factories import HouseholdFactory, ResidentFactory, UnitFactory

pytestmark = pytest.mark.django_db


def test_grid_worker_lands_on_their_grid(client: Any, world: Any, grid_worker: Any) -> None:
    client.force_login(grid_worker)
    response = client.get("/", follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("community:worker-home")
    assert world.building_a.number in body
    assert world.building_b.number not in body
    assert world.other_building.number not in body


def test_building_page_masks_phones(client: Any, world: Any, grid_worker: Any) -> None:
    client.force_login(grid_worker)
    body = client.get(reverse("community:worker-building", args=[world.building_a.pk])).content
    text = body.decode()
    assert world.resident_a.name in text
    assert world.resident_a.phone not in text
    assert world.resident_a.phone_masked in text


def test_building_outside_grid_is_404(client: Any, world: Any, grid_worker: Any) -> None:
    client.force_login(grid_worker)
    for building in (world.building_b, world.other_building):
        url = reverse("community:worker-building", args=[building.pk])
        assert client.get(url).status_code == 404


def test_outsider_is_denied_worker_pages(client: Any, world: Any, outsider: Any) -> None:
    client.force_login(outsider)
    assert client.get(reverse("community:worker-home")).status_code == 404
    url = reverse("community:worker-building", args=[world.building_a.pk])
    assert client.get(url).status_code == 404


def test_anonymous_is_sent_to_login(client: Any, world: Any) -> None:
    response = client.get(reverse("community:worker-home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_building_page_query_count_is_constant(
    client: Any, world: Any, grid_worker: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(15):
        household = HouseholdFactory(unit=UnitFactory(building=world.building_a))
        ResidentFactory(household=household)
        ResidentFactory(household=household)
    client.force_login(grid_worker)
    url = reverse("community:worker-building", args=[world.building_a.pk])
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
