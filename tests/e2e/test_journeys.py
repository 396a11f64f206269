"""The first journeys, one per audience: office staff, grid worker, resident, outsider.

Each asserts what the person must see and, as firmly, what they must not: a whole ID
number anywhere in the HTML, another grid's building, a page outside their role.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from community.models import Resident
from community.privacy import decrypt_id_number, mask_id_number
from community.tests.factories import ResidentFactory, valid_id_number
from tests.e2e.conftest import DESKTOP, PHONE, log_in, page_width

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Browse = Callable[..., Page]
Shot = Callable[..., Path]


def test_staff_finds_a_resident_and_sees_only_masked_id_numbers(
    browse: Browse, screenshot: Shot, staff: Any, world: Any
) -> None:
    whole_id = valid_id_number(4321, dt.date(1962, 3, 8))
    ResidentFactory(
        household=world.household_a,
        name="赵秀兰",
        id_number=whole_id,
        phone="13912345678",
        relation_to_head=Resident.Relation.SPOUSE,
    )
    page = browse(**DESKTOP)

    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#id_username")).to_be_visible()
    screenshot(page, "login")
    log_in(page, staff.phone)
    expect(page).to_have_url(re.compile(r"/admin/$"))

    page.goto("/admin/community/resident/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    search = page.locator("#changelist-search")
    expect(search.locator("input[type=submit]")).to_have_value("搜索")  # Django admin's own zh-hans
    search.locator("#searchbar").fill("赵秀兰")
    with page.expect_navigation():
        search.locator("#searchbar").press("Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("赵秀兰")
    expect(rows.first).to_contain_text(mask_id_number(whole_id))
    expect(rows.first).to_contain_text("139****5678")
    assert whole_id not in page.content()
    screenshot(page, "resident-list")

    # The resident's own page: the masked number, and an empty write-only field.
    with page.expect_navigation():
        rows.first.locator("th a").click()
    expect(page.locator(".field-id_number_masked")).to_contain_text(mask_id_number(whole_id))
    expect(page.locator("#id_id_number")).to_have_value("")
    assert whole_id not in page.content()
    screenshot(page, "resident")

    # Then the household.
    page.goto("/admin/community/household/")
    page.locator("#searchbar").fill("赵秀兰")
    with page.expect_navigation():
        page.locator("#searchbar").press("Enter")
    households = page.locator("#result_list tbody tr")
    expect(households).to_have_count(1)
    with page.expect_navigation():
        households.first.locator("th a").click()
    expect(page).to_have_url(
        re.compile(rf"/admin/community/household/{world.household_a.pk}/change/")
    )
    html = page.content()
    assert whole_id not in html
    assert whole_id[6:14] not in html  # not even the birth date in the middle
    assert "13912345678" not in html
    screenshot(page)


def test_staff_sees_household_members_masked_on_the_household_page(
    browse: Browse, staff: Any, world: Any
) -> None:
    whole_id = valid_id_number(4322, dt.date(1962, 3, 8))
    ResidentFactory(household=world.household_a, name="赵秀兰", id_number=whole_id)
    page = browse(**DESKTOP)
    log_in(page, staff.phone)
    page.goto(f"/admin/community/household/{world.household_a.pk}/change/")
    members = page.locator(".inline-group")
    expect(members).to_contain_text("赵秀兰", timeout=2_000)
    expect(members).to_contain_text(mask_id_number(whole_id))
    expect(members).to_contain_text(world.resident_a.name)
    assert whole_id not in page.content()


def test_grid_worker_sees_only_their_grid_on_a_phone(
    browse: Browse, screenshot: Shot, grid_worker: Any, world: Any
) -> None:
    page = browse(**PHONE)
    log_in(page, grid_worker.phone)
    expect(page).to_have_url(re.compile(r"/worker/$"))

    def building_link(building: Any) -> Any:
        return page.locator(f'a[href="/worker/buildings/{building.pk}/"]')

    expect(building_link(world.building_a)).to_have_count(1)
    expect(building_link(world.building_b)).to_have_count(0)  # same community, grid_b
    expect(building_link(world.other_building)).to_have_count(0)  # another community
    expect(page.locator("main")).to_contain_text(world.grid_a.name)
    assert world.other_estate.name not in page.content()
    assert page_width(page) <= 375
    screenshot(page, "home")

    with page.expect_navigation():
        building_link(world.building_a).click()
    expect(page.locator("h1")).to_contain_text(world.building_a.number)
    household = page.locator(".card", has_text=world.resident_a.name)
    expect(household).to_have_count(1)
    expect(household).to_contain_text(world.resident_a.phone_masked)
    html = page.content()
    assert world.resident_a.phone not in html
    assert world.resident_b.name not in html
    assert page_width(page) <= 375
    screenshot(page)

    # Another grid's building is not found, even by its address.
    response = page.goto(f"/worker/buildings/{world.building_b.pk}/")
    assert response is not None and response.status == 404


def test_resident_sees_their_household_masked_on_a_phone(
    browse: Browse, screenshot: Shot, resident: Any, world: Any
) -> None:
    me = world.resident_a
    whole_id = decrypt_id_number(Resident.objects.get(pk=me.pk).id_number_ciphertext)
    page = browse(**PHONE)
    log_in(page, resident.phone)
    expect(page).to_have_url(re.compile(r"/portal/$"))

    card = page.locator(".card", has_text=me.name)
    expect(card).to_have_count(1)
    expect(card).to_contain_text(world.building_a.number)
    expect(card).to_contain_text(mask_id_number(whole_id))
    expect(card).to_contain_text(me.phone_masked)
    html = page.content()
    assert whole_id not in html
    assert me.phone not in html
    assert world.resident_b.name not in html  # a neighbour's household
    assert page_width(page) <= 375
    screenshot(page)


def test_outsider_gets_the_no_role_page_and_nothing_else(
    browse: Browse, screenshot: Shot, outsider: Any, world: Any
) -> None:
    page = browse(**PHONE)
    log_in(page, outsider.phone)
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))  # stays on the home page
    expect(page.locator(".auth-card h1")).to_be_visible()
    assert page_width(page) <= 375
    screenshot(page)

    response = page.goto("/worker/")
    assert response is not None and response.status == 404

    response = page.goto("/api/v1/residents/")
    assert response is not None
    if response.status == 200:
        body = json.loads(page.locator("body").inner_text())
        assert body["results"] == []
    else:
        assert response.status == 404
    assert world.resident_a.name not in page.content()
