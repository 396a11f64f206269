"""The inbox on a phone (375 px): the badge in the top bar, open a message, read all.

Runs with the browser journeys (`make e2e`): it borrows their fixtures.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.notifications import notify
from tests.e2e.conftest import PHONE, log_in, page_width

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Browse = Callable[..., Page]
Shot = Callable[..., Path]


def test_resident_reads_messages_on_a_phone(
    browse: Browse,
    screenshot: Shot,
    live_server: Any,
    resident: Any,
    world: Any,
) -> None:
    notify(
        users=[resident],
        subject="您的扣分申诉已受理",
        body="社区将在7日内答复。" * 6,
        link="/points/",
        kind="credit.appeal",
    )
    notify(users=[resident], subject="周六上午在3号楼前有义务理发", kind="volunteers.activity")

    page = browse(**PHONE)
    log_in(page, resident.phone)
    badge = page.locator('[data-testid="inbox-unread"]')
    expect(badge).to_contain_text("2")
    assert page_width(page) <= 375

    with page.expect_navigation():
        page.locator('[data-testid="inbox-link"]').click()
    expect(page).to_have_url(re.compile(r"/accounts/inbox/$"))
    expect(page.locator("[data-unread]")).to_have_count(2)
    assert page_width(page) <= 375
    screenshot(page, "inbox")

    with page.expect_navigation():
        page.locator("a.list-group-item", has_text="您的扣分申诉已受理").click()
    expect(page).to_have_url(re.compile(r"/points/$"))
    expect(badge).to_contain_text("1")

    page.goto("/accounts/inbox/")
    with page.expect_navigation():
        page.locator("form[action$='/read-all/'] button").click()
    expect(page.locator("[data-unread]")).to_have_count(0)
    expect(badge).to_have_count(0)
    assert page_width(page) <= 375
    screenshot(page, "all-read")

    # English labels are longer: the top bar still fits, with a new message's badge.
    notify(users=[resident], subject="Water off on Saturday")
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto("/accounts/inbox/")
    expect(page.locator('[data-testid="inbox-link"]')).to_contain_text("Messages")
    expect(badge).to_contain_text("1")
    assert page_width(page) <= 375
    screenshot(page, "english")
