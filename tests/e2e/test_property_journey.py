"""Property management journeys: a resident rates the property company on a phone and the
office publishes the quarter's scorecard; the self-managed committee spends money with a
receipt photo (one asks, another approves, the keeper pays, the bookkeeper books) and the
public ledger shows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from property_mgmt.models import ExpenseRequest, Scorecard, SurveyResponse
from property_mgmt.services.surveys import survey_create, survey_open
from property_mgmt.tests.factories_funds import committee_with_fund
from tests.e2e.conftest import PHONE, log_in, page_width

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Browse = Callable[..., Page]
Shot = Callable[..., Path]
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def _last_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    """The quarter before the one `today` is in (the scorecard page's default)."""
    first_month = 3 * ((today.month - 1) // 3) + 1
    this_quarter = today.replace(month=first_month, day=1)
    end = this_quarter - dt.timedelta(days=1)
    return end.replace(month=3 * ((end.month - 1) // 3) + 1, day=1), end


def test_a_resident_rates_the_company_on_a_phone_and_the_office_publishes_the_scorecard(
    browse: Browse, screenshot: Shot, world: Any, resident: Any, staff: Any
) -> None:
    now = timezone.now()
    start, end = _last_quarter(timezone.localdate())
    survey = survey_create(
        actor=staff,
        community=world.home,
        provider=world.property_company,
        estates=[world.estate],
        title="物业服务满意度测评",
        period_start=start,
        period_end=end,
        now=now,
    )
    survey_open(survey=survey, actor=staff, now=now)

    # The resident, on a phone: four stars and a word for the cleaners.
    me = browse(**PHONE)
    log_in(me, resident.phone)
    me.goto("/property/surveys/")
    form = me.locator('[data-testid="rating-form"]')
    expect(me.locator("main")).to_contain_text("物业服务满意度测评")
    form.locator("label[for$='-overall-4']").click()
    form.locator("textarea[name=comment]").fill("保洁很认真，停车有点乱")
    assert page_width(me) <= 375
    screenshot(me, "rating")
    with me.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(me.locator(".alert-success")).to_be_visible()
    assert page_width(me) <= 375
    screenshot(me, "rated")
    answer = SurveyResponse.objects.get(survey=survey)
    assert (answer.overall, answer.channel) == (4, SurveyResponse.Channel.PORTAL)
    assert answer.household_id == world.household_a.pk

    # The office, on a desktop: the quarter's figures, publish the company's scorecard.
    office = browse(**DESKTOP)
    log_in(office, staff.phone)
    office.goto("/property/scorecards/")
    row = office.locator(f'[data-testid="provider-{world.property_company.pk}"]')
    expect(row).to_contain_text(world.property_company.name)
    screenshot(office, "figures")
    with office.expect_navigation():
        row.locator('[data-testid="publish"]').click()
    expect(office.locator(".alert-success")).to_be_visible()
    expect(
        office.locator(
            f'[data-testid="provider-{world.property_company.pk}"] [data-testid="published"]'
        )
    ).to_be_visible()
    screenshot(office, "published")
    card = Scorecard.objects.get(provider=world.property_company)
    assert card.satisfaction == Decimal("4.00") and card.survey_answers == 1
    assert (card.period_start, card.period_end) == (start, end)


def _receipt(path: Path) -> Path:
    Image.new("RGB", (640, 480), (250, 248, 240)).save(path, "JPEG")
    return path


def test_the_committee_spends_with_a_receipt_and_the_public_ledger_shows_it(
    browse: Browse, screenshot: Shot, world: Any, resident: Any, tmp_path: Path
) -> None:
    committee = committee_with_fund(world.estate, balance=Decimal("1000.00"))
    estate = world.estate.pk

    # 钱委员 asks for the money on a phone, with the quote's photo.
    asker = browse(**PHONE)
    log_in(asker, committee.member_a.phone)
    asker.goto(f"/property/funds/{estate}/expenses/new/")
    asker.locator("input[name=purpose]").fill("更换楼道灯泡")
    asker.locator("input[name=amount]").fill("260")
    asker.locator("input[name=photos]").set_input_files(_receipt(tmp_path / "quote.jpg"))
    assert page_width(asker) <= 375
    with asker.expect_navigation():
        asker.locator("main form button[type=submit]").click()
    expect(asker.locator(".alert-success")).to_be_visible()
    expense = ExpenseRequest.objects.get(purpose="更换楼道灯泡")
    expect(asker.locator('[data-testid="status"]')).to_be_visible()
    screenshot(asker, "requested")

    def act(user: Any, action: str, step: str) -> Page:
        page = browse(**PHONE)
        log_in(page, user.phone)
        page.goto(f"/property/funds/expenses/{expense.pk}/")
        form = page.locator(f'form[data-action="{action}"]')
        if action == "pay":
            form.locator("input[type=file]").set_input_files(_receipt(tmp_path / "receipt.jpg"))
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(page.locator(".alert-success")).to_be_visible()
        assert page_width(page) <= 375
        screenshot(page, step)
        return page

    # 孙委员 approves; the keeper pays with the receipt; the bookkeeper books it.
    act(committee.member_b, "approve", "approved")
    act(committee.keeper, "pay", "paid")
    booked = act(committee.bookkeeper, "book", "booked")
    expect(booked.locator('[data-testid="history"]')).to_contain_text("赵")
    expense.refresh_from_db()
    assert expense.status == ExpenseRequest.Status.BOOKED
    assert (expense.decided_by, expense.paid_by, expense.booked_by) == (
        committee.member_b,
        committee.keeper,
        committee.bookkeeper,
    )
    assert expense.attachments.count() == 2
    assert committee.reload().balance == Decimal("740.00")

    # A resident of the estate reads the public ledger: the expense, names masked.
    reader = browse(**PHONE)
    log_in(reader, resident.phone)
    reader.goto(f"/property/funds/{estate}/ledger/?year={expense.paid_at.astimezone().year}")
    main = reader.locator("main")
    expect(main).to_contain_text("更换楼道灯泡")
    expect(main).to_contain_text("260")
    expect(main).not_to_contain_text("钱委员")  # surname only: 钱**
    expect(reader.locator('[data-testid="closing"]')).to_contain_text("740")
    assert page_width(reader) <= 375
    screenshot(reader, "ledger")
