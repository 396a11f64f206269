"""The credit supermarket journey on phones: a resident redeems, a clerk hands it over.

The exchange window is "always open" so the journey does not depend on the date it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from credit.models import Redemption
from credit.tests.test_supermarket import fund, make_clerk, make_item
from credit.tests.test_views_shop import open_always
from tests.e2e.conftest import PHONE, log_in, page_width

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Browse = Callable[..., Page]
Shot = Callable[..., Path]


def test_resident_redeems_and_clerk_hands_over_on_phones(
    browse: Browse, screenshot: Shot, resident: Any, world: Any
) -> None:
    open_always(world.home)
    fund(world, world.resident_a, 100)
    item = make_item(world.home, name="非遗剪纸课", kind="course", points_price=40, stock=3)
    make_item(world.home, name="电饭煲", points_price=500)
    clerk = make_clerk(world.home)

    # The resident: catalogue with the balance, then the item, then redeem.
    me = browse(**PHONE)
    log_in(me, resident.phone)
    me.goto("/points/shop/")
    expect(me.locator(".balance")).to_have_text("100")
    expect(me.locator(".window-open")).to_be_visible()
    expect(me.locator('.shop-nav a[href="/points/"]')).to_have_count(1)
    assert page_width(me) <= 375
    screenshot(me, "catalogue")
    with me.expect_navigation():
        me.locator(".shop-item", has_text="非遗剪纸课").click()
    expect(me.locator("h1")).to_contain_text("非遗剪纸课")
    with me.expect_navigation():
        me.locator("form.redeem-form button").click()
    expect(me).to_have_url(re.compile(r"/points/shop/redemptions/\d+/$"))
    code = me.locator(".pickup-code").inner_text().strip()
    redemption = Redemption.objects.get()
    assert code == redemption.pickup_code
    expect(me.locator(".qr-box svg")).to_be_visible()
    assert page_width(me) <= 375
    screenshot(me, "code")

    # The clerk, on another phone: type the code, see who and what, hand over.
    desk = browse(**PHONE)
    log_in(desk, clerk.phone)
    desk.goto("/points/clerk/")
    field = desk.locator("#id_code")
    expect(field).to_be_focused()
    field.fill(code.lower())
    with desk.expect_navigation():
        field.press("Enter")
    found = desk.locator(".found")
    expect(found).to_contain_text(world.resident_a.name)
    expect(found).to_contain_text(item.name)
    assert page_width(desk) <= 375
    screenshot(desk, "desk")
    with desk.expect_navigation():
        found.locator("button[type=submit]").click()
    expect(desk.locator(".alert-success")).to_contain_text(item.name)
    screenshot(desk, "handed-over")

    # Back to the resident: the reservation shows picked up.
    me.goto("/points/shop/redemptions/")
    card = me.locator(".redemption", has_text="非遗剪纸课")
    expect(card).to_have_attribute("data-status", "fulfilled")
    expect(card.locator(".status-fulfilled")).to_be_visible()
    expect(me.locator(".pickup-code")).to_have_count(0)
    assert page_width(me) <= 375
    screenshot(me)
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.FULFILLED
    assert redemption.fulfilled_by == clerk

    # Her points history shows both: the award that funded her and the exchange.
    me.goto("/points/")
    expect(me.locator('[data-testid="balance"]')).to_have_text("60")
    spend = me.locator(f"#entry-{redemption.entry_id}")
    expect(spend).to_contain_text("非遗剪纸课")
    expect(spend).to_contain_text("−40")
    expect(me.locator(".list-group-item", has_text="+100")).to_have_count(1)
    assert page_width(me) <= 375
    screenshot(me, "history")
