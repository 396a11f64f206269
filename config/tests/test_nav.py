from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def menu(client: Any, user: Any, path: str = "/points/standard/") -> list[tuple[str, bool]]:
    client.force_login(user)
    response = client.get(path)
    return [(item["url"], item["active"]) for item in response.context["linli_nav"]]


def test_resident_menu_leads_to_household_points_and_shop(client: Any, resident: Any) -> None:
    urls = [url for url, _active in menu(client, resident)]
    assert reverse("community:portal-home") in urls
    assert reverse("credit:points-home") in urls
    assert reverse("credit:shop-catalogue") in urls
    assert reverse("admin:index") not in urls


def test_staff_menu_has_the_back_office_and_workbench(client: Any, staff: Any) -> None:
    urls = [url for url, _active in menu(client, staff)]
    assert reverse("admin:index") in urls
    assert reverse("credit:points-staff") in urls
    assert reverse("credit:shop-catalogue") not in urls


def test_only_the_current_place_is_marked(client: Any, resident: Any) -> None:
    items = dict(menu(client, resident, reverse("credit:shop-catalogue")))
    assert items[reverse("credit:shop-catalogue")] is True
    assert items[reverse("credit:points-home")] is False


def test_outsider_has_no_menu(client: Any, outsider: Any) -> None:
    assert menu(client, outsider, "/") == []


def test_grievance_places_follow_the_role(
    client: Any, resident: Any, grid_worker: Any, staff: Any, property_staff: Any
) -> None:
    board, file, queue = (reverse(f"grievances:{n}") for n in ("board", "file", "queue"))
    suggest = reverse("grievances:suggest")
    resident_urls = [url for url, _active in menu(client, resident)]
    assert file in resident_urls and suggest in resident_urls and board not in resident_urls
    worker_urls = [url for url, _active in menu(client, grid_worker)]
    assert file in worker_urls and board not in worker_urls
    staff_urls = [url for url, _active in menu(client, staff)]
    assert board in staff_urls and reverse("grievances:kpis") in staff_urls
    company_urls = [url for url, _active in menu(client, property_staff)]
    assert queue in company_urls and file not in company_urls


def test_property_staff_land_on_their_work_orders(client: Any, property_staff: Any) -> None:
    client.force_login(property_staff)
    assert client.get("/").url == reverse("grievances:queue")
