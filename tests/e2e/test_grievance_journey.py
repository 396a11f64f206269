"""Grievance journeys in Chromium (issue 4, "Done when").

(a) A grid worker files a grievance with a photo on a phone; the office dispatches it to
    the property company on a desktop; property staff take it from their phone queue,
    check in on site (the phone's position) and resolve it with a photo; the resident
    confirms and rates it. The timeline and the clocks show every step.
(b) A clock breached hours ago (set up with the services at a past `now`, then one sweep)
    is on the dispatch board as overdue, and its escalation is in the office's inbox.

Texts are asserted in Chinese where the user reads them: what people typed, and the
messages and clock texts of the grievance pages.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Notification
from grievances import services
from grievances.models import Grievance, Rating, SlaClock
from grievances.sla.sweep import sla_sweep
from grievances.tests.conftest import _private_storage, categories  # noqa: F401 (fixtures)
from grievances.tests.factories import photo_bytes
from tests.e2e.conftest import DESKTOP, PHONE, log_in, page_width

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Browse = Callable[..., Page]
Shot = Callable[..., Path]
#: Somewhere in Shanghai: where the phones say they are.
HERE = {"latitude": 31.230416, "longitude": 121.473701}
PHONE_WITH_GPS: dict[str, Any] = {**PHONE, "geolocation": HERE, "permissions": ["geolocation"]}


def photo(name: str, color: tuple[int, int, int]) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": photo_bytes(color=color)}


def message(page: Page) -> Any:
    return page.locator("main .alert-success")


def fits_a_phone(page: Page) -> None:
    assert page_width(page) <= 375, "the page scrolls sideways on a 375 px phone"


def test_grid_worker_files_office_dispatches_property_resolves_resident_rates(
    browse: Browse,
    screenshot: Shot,
    world: Any,
    categories: Any,  # noqa: F811
    grid_worker: Any,
    staff: Any,
    property_staff: Any,
    resident: Any,
) -> None:
    # --- the grid worker, on a phone: a resident told them about the corridor light ---
    worker = browse(**PHONE_WITH_GPS)
    log_in(worker, grid_worker.phone)
    worker.goto("/grievances/new/?mode=worker")
    worker.locator("#id_category").select_option(str(categories.lamp.pk))
    worker.locator("#id_title").fill("3号楼三楼楼道灯不亮")
    worker.locator("#id_description").fill("晚上上楼看不见，老人差点摔倒。")
    worker.locator("#id_building").select_option(str(world.building_a.pk))
    worker.locator("input[name=source][value=resident]").check()
    worker.locator("#resident-search").fill("张建国")
    found = worker.locator("#resident-matches input[name=resident]")
    expect(found).to_have_count(1)
    found.check()
    worker.locator("#id_photos").set_input_files([photo("corridor.jpg", (40, 40, 40))])
    fits_a_phone(worker)
    screenshot(worker, "1-worker-form")
    worker.locator("[data-submit]").click()
    expect(worker).to_have_url(re.compile(r"/grievances/new/done/\d+/$"))
    number = worker.locator('[data-testid="grievance-number"]').inner_text().strip()
    grievance = Grievance.objects.get(pk=int(number.lstrip("#")))
    assert grievance.reporter == world.resident_a
    assert grievance.channel == Grievance.Channel.GRID_WORKER
    detail = f"/grievances/{grievance.pk}/"

    # --- the office, on a desktop: dispatch it to the estate's property company ---
    office = browse(**DESKTOP)
    log_in(office, staff.phone)
    office.goto(detail)
    head = office.locator(".grievance-head")
    expect(head).to_have_attribute("data-status", "submitted")
    expect(head).to_contain_text("3号楼三楼楼道灯不亮")
    expect(head.locator(".reporter")).to_contain_text("张建国")  # the office sees the name
    expect(office.locator(".grievance-photos img")).to_have_count(1)
    form = office.locator("details[data-action=dispatch] form")
    expect(form.locator("select[name=to]")).to_have_value(f"org:{world.property_company.pk}")
    form.locator("textarea[name=note]").fill("请尽快处理，有老人住户。")
    screenshot(office, "2-office-dispatch")
    with office.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(message(office)).to_have_text(f"已派单给{world.property_company.name}。")
    expect(head).to_have_attribute("data-status", "dispatched")

    # --- property staff, on a phone: take it from the queue, check in, resolve ---
    handler = browse(**PHONE_WITH_GPS)
    log_in(handler, property_staff.phone)
    handler.goto("/grievances/work/")
    row = handler.locator(f"#g-{grievance.pk}")
    expect(row).to_have_attribute("data-pending", "")
    expect(row).to_contain_text("3号楼三楼楼道灯不亮")
    fits_a_phone(handler)
    screenshot(handler, "3-handler-queue")
    with handler.expect_navigation():
        row.locator("form[data-action=dispatch-accept] button").click()
    expect(handler).to_have_url(re.compile(r"/grievances/work/$"))
    expect(message(handler)).to_have_text("已接单，开始计时。")
    expect(row).not_to_have_attribute("data-pending", "")
    expect(row.locator(".time-left")).to_contain_text("剩")
    with handler.expect_navigation():
        row.locator("a").first.click()
    expect(handler).to_have_url(re.compile(rf"{detail}$"))
    # The reporter's name and phone are the office's to know.
    expect(handler.locator(".grievance-head .reporter")).to_contain_text("张**")
    expect(handler.locator(".clock[data-kind=arrive] .clock-left")).to_contain_text("剩")
    check_in = handler.locator("details[data-action=check-in]")
    expect(check_in).to_have_attribute("open", "")
    expect(check_in.locator(".geo-status")).to_have_attribute("data-found", "1")
    check_in.locator("input[name=photo]").set_input_files([photo("arrive.jpg", (90, 90, 200))])
    fits_a_phone(handler)
    screenshot(handler, "4-handler-check-in")
    with handler.expect_navigation():
        check_in.locator("button[type=submit]").click()
    expect(message(handler)).to_have_text("已到场签到。")
    expect(handler.locator(".grievance-head")).to_have_attribute("data-status", "on_site")
    expect(handler.locator(".clock[data-kind=arrive] .clock-left")).to_have_text("按时完成")
    resolve = handler.locator("details[data-action=resolve]")
    expect(resolve).to_have_attribute("open", "")
    resolve.locator("textarea[name=note]").fill("更换了声控灯泡，已恢复照明。")
    resolve.locator("input[name=photos]").set_input_files([photo("after.jpg", (250, 250, 200))])
    with handler.expect_navigation():
        resolve.locator("button[type=submit]").click()
    expect(message(handler)).to_have_text("已办结，等待反映人确认。")
    expect(handler.locator(".grievance-head")).to_have_attribute("data-status", "resolved")
    fits_a_phone(handler)
    screenshot(handler, "5-handler-resolved")

    # --- the resident, on a phone: solved, five stars ---
    me = browse(**PHONE)
    log_in(me, resident.phone)
    me.goto(detail)
    rate = me.locator("form[data-action=rate]")
    expect(rate).to_be_visible()
    expect(me.locator(".grievance-head .resolution")).to_contain_text("更换了声控灯泡")
    fits_a_phone(me)
    screenshot(me, "6-resident-rates")
    rate.locator("label[for=stars-5]").click()
    rate.locator("textarea[name=comment]").fill("师傅来得很快，谢谢！")
    with me.expect_navigation():
        rate.locator("button[name=solved][value='1']").click()
    expect(message(me)).to_have_text("谢谢您的评价，诉求已关闭。")
    expect(me.locator(".grievance-head")).to_have_attribute("data-status", "closed")
    expect(me.locator("form[data-action]")).to_have_count(0)

    # Every step is on the timeline, in order, with the photos of each.
    timeline = me.locator(".timeline-item")
    kinds = [timeline.nth(i).get_attribute("data-kind") for i in range(timeline.count())]
    steps = ["created", "dispatched", "dispatch_accepted", "checked_in", "resolved", "rated"]
    positions = [kinds.index(step) for step in steps]
    assert positions == sorted(positions), kinds
    assert kinds[-1] == "status"  # closed after the rating
    expect(me.locator(".timeline-item[data-kind=dispatched]")).to_contain_text(
        world.property_company.name
    )
    expect(me.locator(".timeline-item[data-kind=resolved]")).to_contain_text("更换了声控灯泡")
    expect(me.locator(".timeline-item[data-kind=rated]")).to_contain_text("师傅来得很快")
    expect(me.locator(".timeline-item[data-kind=checked_in]")).to_contain_text("31.23042")
    # The office's instructions were for the handler, not a timeline line the resident reads.
    expect(me.locator(".grievance-timeline")).not_to_contain_text("有老人住户")
    # The three photos (reported, on arrival, after) are served to her by the photo view.
    photos = me.locator(".grievance-photos img")
    expect(photos).to_have_count(3)
    for i in range(3):
        assert photos.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
    # Both clocks of the promise were met on time.
    for kind in ("arrive", "resolve"):
        expect(me.locator(f".clock[data-kind={kind}] .clock-left")).to_have_text("按时完成")
    fits_a_phone(me)
    screenshot(me, "7-resident-closed")

    grievance.refresh_from_db()
    assert grievance.status == Grievance.Status.CLOSED
    rating = Rating.objects.get(grievance=grievance)
    assert (rating.solved, rating.stars) == (True, 5)
    assert set(SlaClock.objects.filter(grievance=grievance).values_list("state", flat=True)) == {
        SlaClock.State.STOPPED
    }

    # The office's desktop view of the finished story: the internal parts too.
    office.goto(detail)
    expect(office.locator(".grievance-head")).to_have_attribute("data-status", "closed")
    screenshot(office, "8-office-closed")


def test_breached_clock_is_overdue_on_the_board_and_escalated_to_the_office(
    browse: Browse,
    screenshot: Shot,
    world: Any,
    categories: Any,  # noqa: F811
    staff: Any,
    property_staff: Any,
    resident: Any,
) -> None:
    # Three hours ago: filed, dispatched, taken by the property company; nobody came.
    then = timezone.now() - dt.timedelta(hours=3)
    grievance = services.grievance_file(
        community=world.home,
        category=categories.lamp,
        title="单元门禁坏了",
        description="门禁一直响，关不上。",
        channel=Grievance.Channel.PORTAL,
        submitted_by=resident,
        now=then,
    )
    dispatch = services.grievance_dispatch(
        grievance=grievance,
        actor=staff,
        now=then + dt.timedelta(minutes=1),
        organization=world.property_company,
    )
    services.dispatch_accept(
        dispatch=dispatch, actor=property_staff, now=then + dt.timedelta(minutes=2)
    )
    # The sweep runs now: the breaches are recorded and the ladder climbs to the office.
    result = sla_sweep(now=timezone.now())
    assert result.breaches == 2 and result.escalations >= 2
    assert Notification.objects.filter(user=staff, kind="grievance.sla_escalation").exists()

    office = browse(**DESKTOP)
    log_in(office, staff.phone)
    office.goto("/grievances/board/")
    overdue = office.locator('[data-testid="list-overdue"]')
    expect(overdue).to_contain_text("单元门禁坏了")
    expect(overdue).to_contain_text(f"#{grievance.pk}")
    screenshot(office, "board-overdue")

    office.goto("/accounts/inbox/")
    escalation = office.locator("a.list-group-item", has_text="单元门禁坏了").filter(
        has_text=f"#{grievance.pk}"
    )
    expect(escalation.first).to_be_visible()
    screenshot(office, "inbox-escalation")
    with office.expect_navigation():
        escalation.first.click()
    expect(office).to_have_url(re.compile(rf"/grievances/{grievance.pk}/$"))
    arrive = office.locator(".clock[data-kind=arrive]")
    expect(arrive).to_have_attribute("data-overdue", "")
    expect(arrive.locator(".clock-left")).to_contain_text("超时")
    expect(office.locator(".timeline-item[data-kind=escalated]").first).to_be_visible()
    screenshot(office, "grievance-overdue")

    # The handler's phone queue puts it first, overdue.
    handler = browse(**PHONE)
    log_in(handler, property_staff.phone)
    handler.goto("/grievances/work/")
    first = handler.locator(".queue-row").first
    expect(first).to_have_attribute("id", f"g-{grievance.pk}")
    expect(first.locator(".time-left")).to_contain_text("超时")
    fits_a_phone(handler)
    screenshot(handler, "queue-overdue")
