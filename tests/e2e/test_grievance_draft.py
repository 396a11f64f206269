"""A grid worker's report survives a dropped connection (375 px phone, one hand).

Fill the form, lose the network, submit: the page keeps everything and says so; reload
once the signal is back: the draft is put back; submit: filed once, draft cleared.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from grievances.models import Attachment, Grievance
from grievances.sla.policies import POLICY_1715, sla_policies_install
from grievances.tests.factories import CategoryFactory, photo_bytes
from tests.e2e.conftest import PHONE, log_in, page_width

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Browse = Callable[..., Page]
Shot = Callable[..., Path]
POSITION = {"latitude": 31.230416, "longitude": 121.473701}


@pytest.fixture
def lamp(db: Any, settings: Any, tmp_path: Path) -> Any:
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    policies = sla_policies_install()
    facility = CategoryFactory(
        code="e2e-facility", name="公共设施", sla_policy=policies[POLICY_1715]
    )
    return CategoryFactory(code="e2e-lamp", name="楼道照明", parent=facility)


def _photo(tmp_path: Path) -> Path:
    path = tmp_path / "lamp.jpg"
    path.write_bytes(photo_bytes("JPEG", (64, 48)))
    return path


def test_a_report_survives_a_dropped_connection(
    browse: Browse, screenshot: Shot, grid_worker: Any, world: Any, lamp: Any, tmp_path: Path
) -> None:
    page = browse(**PHONE, geolocation=POSITION, permissions=["geolocation"])
    log_in(page, grid_worker.phone)
    page.goto("/grievances/new/")
    expect(page.locator("h1")).to_be_visible()
    assert page_width(page) <= 375

    page.select_option("#id_category", label="楼道照明")
    page.fill("#id_description", "巡查时发现3楼感应灯不亮，晚上很黑。")
    with page.expect_response(re.compile(r"/grievances/new/units/")):
        page.select_option("#id_building", str(world.building_a.pk))
    page.select_option("#id_unit", str(world.household_a.unit.pk))
    page.locator("[data-geolocate]").click()
    expect(page.locator("#id_latitude")).to_have_value("31.230416")
    page.set_input_files("input[type=file][name=photos]", str(_photo(tmp_path)))

    # The title is forgotten: the server's answer replaces the form in place, the photo
    # stays chosen and everything typed stays.
    page.locator("[data-submit]").click()
    expect(page.locator("#id_title")).to_have_class(re.compile("is-invalid"))
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    expect(page.locator("#id_description")).to_have_value("巡查时发现3楼感应灯不亮，晚上很黑。")
    expect(page.locator("#id_unit")).to_have_value(str(world.household_a.unit.pk))
    assert page.evaluate("() => document.querySelector('input[name=photos]').files.length") == 1
    screenshot(page, "mistake")
    page.fill("#id_title", "3楼楼道灯不亮")
    assert page_width(page) <= 375
    screenshot(page, "filled")

    # The signal drops; the worker taps Submit.
    page.context.set_offline(True)
    page.locator("[data-submit]").click()
    status = page.locator("[data-send-status]")
    expect(status).to_be_visible()
    expect(status).to_have_class(re.compile("alert-warning"))
    assert page.url.endswith("/grievances/new/")
    expect(page.locator("#id_title")).to_have_value("3楼楼道灯不亮")
    files = page.evaluate("() => document.querySelector('input[name=photos]').files.length")
    assert files == 1  # the photo stays chosen while the page stays
    expect(page.locator("[data-submit]")).to_be_enabled()
    assert page_width(page) <= 375
    screenshot(page, "offline")
    assert not Grievance.objects.exists()

    # Back online, the page is opened again: the draft comes back, photos must be re-picked.
    page.context.set_offline(False)
    page.reload()
    expect(page.locator("#draft-notice")).to_be_visible()
    expect(page.locator("#id_title")).to_have_value("3楼楼道灯不亮")
    expect(page.locator("#id_description")).to_have_value("巡查时发现3楼感应灯不亮，晚上很黑。")
    expect(page.locator("#id_category")).to_have_value(str(lamp.pk))
    expect(page.locator("#id_building")).to_have_value(str(world.building_a.pk))
    expect(page.locator("#id_unit")).to_have_value(str(world.household_a.unit.pk))
    expect(page.locator("#id_latitude")).to_have_value("31.230416")
    screenshot(page, "restored")
    page.set_input_files("input[type=file][name=photos]", str(_photo(tmp_path)))

    with page.expect_navigation(url=re.compile(r"/grievances/new/done/\d+/$")):
        page.locator("[data-submit]").click()
    grievance = Grievance.objects.get()
    expect(page.get_by_test_id("grievance-number")).to_have_text(f"#{grievance.pk}")
    assert grievance.title == "3楼楼道灯不亮" and grievance.unit == world.household_a.unit
    assert str(grievance.latitude) == "31.230416"
    assert Attachment.objects.filter(grievance=grievance).count() == 1
    drafts = page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('linli.grievance-draft'))"
    )
    assert drafts == []
    assert page_width(page) <= 375
    screenshot(page, "filed")

    # A fresh form: nothing to restore.
    page.goto("/grievances/new/")
    expect(page.locator("#id_title")).to_have_value("")
    expect(page.locator("#draft-notice")).to_be_hidden()
