"""The property demo: a plausible year of contracts, bills, payments, surveys, a scorecard
and a fund, all through the services; a second run adds nothing."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Avg, F, Sum

from accounts.models import User
from community.models import Community, Estate, Household, Membership, Resident
from credit.models import PointsEntry
from credit.services import standard_install
from grievances.categories import categories_install
from property_mgmt.demo import DEMO_NOW, property_demo_build
from property_mgmt.models import (
    BlacklistEntry,
    BlacklistRule,
    ExpenseAttachment,
    ExpenseRequest,
    FeeBill,
    FeePayment,
    Fund,
    FundEntry,
    ProviderProfile,
    Scorecard,
    ServiceContract,
    Survey,
    SurveyResponse,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def qingsong(settings: Any, tmp_path: Path) -> Community:
    """The registry demo (青松社区 and its logins), its grievance categories and points
    rules, as seed_demo has them before the property demo."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path
    call_command("seed_registry_demo", stdout=io.StringIO())
    community = Community.objects.get(code="DEMO-QS")
    # The volunteers demo (run before this one) gives a few residents a login.
    for resident in (
        Resident.objects.filter(
            household__unit__building__estate__community=community, user__isnull=True
        )
        .exclude(phone="")
        .order_by("pk")[:8]
    ):
        resident.user = User.objects.create_user(resident.phone, None, name=resident.name)
        resident.save(update_fields=["user"])
    categories_install()
    standard_install(street=community.street, valid_from=dt.date(2025, 11, 1))
    return community


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            ProviderProfile,
            ServiceContract,
            FeeBill,
            FeePayment,
            Survey,
            SurveyResponse,
            Scorecard,
            BlacklistRule,
            BlacklistEntry,
            Fund,
            FundEntry,
            ExpenseRequest,
            ExpenseAttachment,
            PointsEntry,
            Membership,
        )
    }


def test_the_demo_is_plausible_and_a_second_run_adds_nothing(qingsong: Community) -> None:
    # Half a year of bills keeps the test quick (a payment is a service call and a points
    # award); the year the demo seeds by default has the same shape, twice as long.
    made = property_demo_build(community=qingsong, months=6)
    assert (
        made["contracts"] == 4
    )  # two company estates (one switched to serve-first), one committee
    assert made["surveys"] == 2 and made["scorecards"] == 2 and made["funds"] == 1

    company = ProviderProfile.objects.get(is_red_property=True)
    assert company.organization.name == "安居物业服务有限公司" and company.party_branch
    committee = ProviderProfile.objects.get(kind=ProviderProfile.Kind.COMMITTEE)
    assert committee.organization.name == "老邮电宿舍自管委"
    serve_first = ServiceContract.objects.get(billing_mode="serve_first")
    assert serve_first.serve_first_threshold == Decimal("4.00")
    assert "1715" in serve_first.promises and serve_first.scope_categories.exists()

    # Monthly bills, about 85 % collected, less in the unhappy building.
    bills = FeeBill.objects.filter(estate__community=qingsong)
    assert bills.values("period").distinct().count() == 6
    totals = bills.aggregate(billed=Sum("amount"), paid=Sum("paid_amount"))
    assert Decimal("0.7") <= totals["paid"] / totals["billed"] <= Decimal("0.95")
    by_building = {
        row["building__number"] + row["estate__name"]: row["paid"] / row["billed"]
        for row in bills.values("building__number", "estate__name")
        .annotate(billed=Sum("amount"), paid=Sum("paid_amount"))
        .order_by()
    }
    weak = by_building.pop("3号楼青松花园")
    neighbours = [rate for key, rate in by_building.items() if key.endswith("青松花园")]
    assert weak < min(neighbours) - Decimal("0.1")
    assert FeePayment.objects.filter(paid_at__date__gt=F("bill__due_on")).exists()  # some paid late
    assert bills.filter(paid_amount=0, payable_from__isnull=False).exists()  # some never

    # Serve first: released months only where the building's score reached 4.0, none paid
    # before release, and October waits for the fourth-quarter survey.
    pilot = FeeBill.objects.filter(contract=serve_first)
    assert pilot.filter(payable_from__isnull=False).exists()
    assert pilot.filter(period=dt.date(2026, 10, 1), payable_from__isnull=False).count() == 0
    assert not FeePayment.objects.filter(bill__payable_from__isnull=True).exists()

    # +5 once per bill paid in full by its due date, and only for those.
    awards = PointsEntry.objects.filter(idempotency_key__startswith="fee-paid:")
    keys = list(awards.values_list("idempotency_key", flat=True))
    assert keys and len(keys) == len(set(keys)) == made["points_awards"]
    awarded = FeeBill.objects.filter(pk__in=[int(k.split(":")[1]) for k in keys])
    assert all(b.paid_at and b.paid_at.date() <= b.due_on for b in awarded)

    # Two rounds, most households answering, on the portal and through grid workers.
    for survey in Survey.objects.filter(community=qingsong):
        assert survey.status == Survey.Status.CLOSED
        answers = survey.responses.all()
        households = Household.objects.filter(
            unit__building__estate__in=survey.estates.all()
        ).count()
        assert answers.count() > 0.75 * households
    channels = set(SurveyResponse.objects.values_list("channel", flat=True))
    assert channels == {SurveyResponse.Channel.PORTAL, SurveyResponse.Channel.ON_BEHALF}
    unhappy = SurveyResponse.objects.filter(
        building__number="3号楼", estate__name="青松花园"
    ).aggregate(a=Avg("overall"))["a"]
    assert unhappy < 3 < SurveyResponse.objects.aggregate(a=Avg("overall"))["a"]

    # The earlier quarter's scorecard is published; 安居 stays off the black list.
    card = Scorecard.objects.get(provider=company.organization)
    assert card.period_start == dt.date(2026, 4, 1)
    assert card.satisfaction is not None and card.satisfaction > Decimal("3")
    assert BlacklistRule.objects.get(community=qingsong).threshold == Decimal("3.0")
    assert not BlacklistEntry.objects.filter(provider=company.organization).exists()

    # The fund: keeper ≠ bookkeeper, the balance is its entries' sum, every stage shown.
    fund = Fund.objects.get()
    assert fund.estate == Estate.objects.get(name="青松花园")
    assert fund.keeper_id != fund.bookkeeper_id
    assert fund.balance == fund.entries.aggregate(s=Sum("amount"))["s"] >= 0
    statuses = set(fund.expense_requests.values_list("status", flat=True))
    assert statuses == {"booked", "rejected", "paid", "requested"}
    assert all(e.decided_by_id != e.requested_by_id for e in fund.expense_requests.all())
    assert ExpenseAttachment.objects.filter(kind=ExpenseAttachment.Kind.RECEIPT).count() == 1
    months = {d.month for d in fund.entries.values_list("occurred_on", flat=True)}
    assert len(months) >= 6
    fengs = Membership.objects.filter(role="committee_member", estate=fund.estate)
    assert fengs.count() == 3 and fengs.filter(user__phone="13800000008").exists()

    before = _counts()
    again = property_demo_build(community=qingsong, months=6)
    assert set(again.values()) == {0}
    assert _counts() == before


def test_a_community_without_an_office_gets_no_demo(world: Any) -> None:
    made = property_demo_build(community=world.home, now=DEMO_NOW)
    assert set(made.values()) == {0}
    assert not ServiceContract.objects.exists()
