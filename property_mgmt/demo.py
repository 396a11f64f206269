"""Demo property data: providers, contracts, a year of bills and payments, two survey
rounds, a scorecard with its black-list rule, and a self-managed fund with a year of
entries.

Everything is written through the property_mgmt services with a controlled `now`, so the
rules hold and the points are the real ones: 孙经理 (property staff) records payments and
a bill paid in full by its due date earns "fee-on-time" +5 through the credit ledger,
once per bill. Deterministic (a generator seeded per row, rows in primary-key order) and
idempotent: every step finds what a previous run made by its natural key (a contract by
estate and start, a payment by its bill, an answer by its household, an entry by its
household or purpose), so a second run adds nothing.

The demo year is the twelve months before DEMO_NOW. The second company estate ran a
serve-first pilot (先服务后收费) from April: its months become payable once a building's
survey score reaches 4.0, so a building that rated poorly in the spring never gets its
spring bills released, and October waits for the fourth-quarter survey.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from community.management.commands.seed_registry_demo import DEMO_PASSWORD
from community.models import (
    Building,
    Community,
    Estate,
    Household,
    Membership,
    Organization,
    Resident,
)
from community.services.registry import membership_grant
from grievances.models import Category
from property_mgmt.models import (
    BlacklistRule,
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
from property_mgmt.services.contracts import contract_create, provider_profile_save
from property_mgmt.services.fees import bills_generate, bills_release, payment_record
from property_mgmt.services.funds import (
    expense_book,
    expense_decide,
    expense_pay,
    expense_request,
    fund_create,
    fund_income_record,
)
from property_mgmt.services.scorecards import blacklist_rule_set, scorecard_publish
from property_mgmt.services.surveys import survey_answer, survey_close, survey_create, survey_open

Role = Membership.Role
D = Decimal

#: The demo's "now": the same year of data whenever it is seeded.
DEMO_NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
#: Two more committee members beside 冯委员: the keeper (管钱) and the bookkeeper (管账).
COMMITTEE = [("13800000018", "卫委员"), ("13800000028", "蒋委员")]

PROMISES = (
    "1715服务承诺：接单后10分钟到场，一般问题1小时内解决，复杂问题1天内拿出方案；"
    "物业服务热线24小时有人接听。"
)
SERVE_FIRST_FROM = dt.date(2026, 4, 1)
SERVE_FIRST_THRESHOLD = D("4.0")
BLACKLIST_BELOW = D("3.0")

#: (title, period start, period end): two quarters; each opens 15 days before its end.
ROUNDS = [
    ("2026年第二季度物业服务满意度测评", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
    ("2026年第三季度物业服务满意度测评", dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
]
SURVEY_COMMENTS = [
    "保洁很及时，楼道干净。",
    "门卫态度好，快递代收方便。",
    "报修后第二天才来人，希望快一点。",
    "绿化带有几处枯死，建议补种。",
    "停车位太紧张，晚上经常没位置。",
    "楼道灯坏了两周才修好。",
    "",
    "",
    "",
]

#: The fund's expenses: (purpose, amount, requested on, outcome).
#: outcome: booked | rejected | paid (waits for the bookkeeper) | requested (waits for a
#: decision: the approval queue of the demo).
EXPENSES = [
    ("楼道感应灯更换（LED，共24盏）", "1860.00", dt.date(2026, 1, 8), "booked"),
    ("化粪池清掏", "3200.00", dt.date(2026, 3, 12), "booked"),
    ("健身器材维修（单杠、漫步机）", "980.00", dt.date(2026, 5, 16), "booked"),
    ("中心绿地补植月季", "2400.00", dt.date(2026, 7, 6), "booked"),
    ("中秋邻里节演出费", "1500.00", dt.date(2026, 9, 2), "rejected"),
    ("单元门禁维修（3号楼1单元）", "1250.00", dt.date(2026, 11, 10), "paid"),
    ("冬季楼道防滑垫采购", "860.00", dt.date(2026, 11, 18), "requested"),
]
RECEIPT_FOR = "健身器材维修（单杠、漫步机）"


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _months(now: dt.datetime, count: int = 12) -> list[dt.date]:
    """The first days of the `count` months before `now`'s month."""
    first = timezone.localdate(now).replace(day=1)
    months = []
    for back in range(count, 0, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        months.append(dt.date(year, month + 1, 1))
    return months


def _first_user(**membership: Any) -> User | None:
    return (
        User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            **{f"memberships__{k}": v for k, v in membership.items()},
        )
        .order_by("pk")
        .first()
    )


@dataclass
class Cast:
    office: User
    company: Organization | None
    company_estates: list[Estate]
    collector: User  # records the company's payments: its property staff, else the office
    committee_estates: list[Estate]  # no company (三无小区): the residents' committee serves


def _cast(community: Community) -> Cast | None:
    office = _first_user(community=community, role__in=[Role.COMMUNITY_STAFF, Role.COMMUNITY_ADMIN])
    if office is None:
        return None
    estates = list(Estate.objects.filter(community=community).order_by("pk"))
    company_estates = [e for e in estates if e.property_company_id is not None]
    company = company_estates[0].property_company if company_estates else None
    # The demo's contracts are one company's: other companies' estates are left alone.
    if company is not None:
        company_estates = [e for e in company_estates if e.property_company_id == company.pk]
    collector = (
        _first_user(organization=company, role=Role.PROPERTY_STAFF) if company else None
    ) or office
    return Cast(
        office=office,
        company=company,
        company_estates=company_estates,
        collector=collector,
        committee_estates=[e for e in estates if e.property_company_id is None],
    )


# --- providers and contracts --------------------------------------------------------------


def _profile(actor: User, organization: Organization, **fields: Any) -> int:
    if ProviderProfile.objects.filter(organization=organization).exists():
        return 0  # a saved profile is staff's to change: a rerun leaves it alone
    provider_profile_save(actor=actor, organization=organization, **fields)
    return 1


def _committee_provider(community: Community, estate: Estate) -> Organization:
    """The estate's self-management committee as a provider (a property company row)."""
    # No community service creates organizations: found or made by name, like the registry.
    organization, _created = Organization.objects.get_or_create(
        kind=Organization.Kind.PROPERTY_COMPANY,
        name=f"{estate.name}自管委",
        defaults={"street_id": community.street_id, "community": community},
    )
    return organization


def _contract(office: User, now: dt.datetime, **terms: Any) -> tuple[ServiceContract, int]:
    existing = ServiceContract.objects.filter(
        estate=terms["estate"], starts_on=terms["starts_on"]
    ).first()
    if existing is not None:
        return existing, 0
    return contract_create(actor=office, now=now, **terms), 1


def _contracts(
    community: Community, cast: Cast, months: list[dt.date], counts: dict[str, int]
) -> list[ServiceContract]:
    office = cast.office
    start = months[0]
    signed = _local(start - dt.timedelta(days=20), 10)
    scope = list(
        Category.objects.filter(
            in_contract_scope=True,
            is_active=True,
            default_handler=Category.Handler.PROPERTY_COMPANY,
        ).order_by("pk")
    )
    contracts: list[ServiceContract] = []
    if cast.company is not None:
        counts["profiles"] += _profile(
            office,
            cast.company,
            kind=ProviderProfile.Kind.COMPANY,
            is_red_property=True,
            party_branch=f"{cast.company.name}党支部",
            hotline=cast.company.phone or "",
            contacts="孙经理（项目经理）\n客服前台 8:00–20:00",
        )
    common = {
        "fee_basis": ServiceContract.FeeBasis.PER_M2,
        "scope_categories": scope,
        "promises": PROMISES,
    }
    for n, estate in enumerate(cast.company_estates):
        assert cast.company is not None
        if n == 1:
            # The serve-first pilot: a normal contract until the spring, then 先服务后收费.
            # Bills are due four months after their month: the quarter's survey decides.
            contract, made = _contract(
                office,
                signed,
                provider=cast.company,
                estate=estate,
                starts_on=start,
                ends_on=SERVE_FIRST_FROM,
                fee_standard=D("1.10"),
                billing_mode=ServiceContract.BillingMode.NORMAL,
                **common,
            )
            contracts.append(contract)
            counts["contracts"] += made
            contract, made = _contract(
                office,
                _local(SERVE_FIRST_FROM - dt.timedelta(days=10), 10),
                provider=cast.company,
                estate=estate,
                starts_on=SERVE_FIRST_FROM,
                ends_on=SERVE_FIRST_FROM.replace(year=SERVE_FIRST_FROM.year + 1),
                fee_standard=D("1.10"),
                billing_mode=ServiceContract.BillingMode.SERVE_FIRST,
                serve_first_threshold=SERVE_FIRST_THRESHOLD,
                due_days=30,
                **common,
            )
        else:
            contract, made = _contract(
                office,
                signed,
                provider=cast.company,
                estate=estate,
                starts_on=start,
                ends_on=start.replace(year=start.year + 2),
                fee_standard=D("1.20"),
                billing_mode=ServiceContract.BillingMode.NORMAL,
                **common,
            )
        contracts.append(contract)
        counts["contracts"] += made
    for estate in cast.committee_estates:
        committee = _committee_provider(community, estate)
        counts["profiles"] += _profile(
            office,
            committee,
            kind=ProviderProfile.Kind.COMMITTEE,
            contacts="自管委值班：每周六上午 居委会活动室",
        )
        # 300 RMB a household a year, billed monthly (no floor areas in an old dormitory
        # matter to a flat sanitation and security fee).
        contract, made = _contract(
            office,
            signed,
            provider=committee,
            estate=estate,
            starts_on=start,
            ends_on=start.replace(year=start.year + 2),
            fee_basis=ServiceContract.FeeBasis.PER_HOUSEHOLD,
            fee_standard=D("25.00"),
            billing_mode=ServiceContract.BillingMode.NORMAL,
            scope_categories=scope,
            promises="自管委成员轮流值守，报修当天登记、三天内处理。",
        )
        contracts.append(contract)
        counts["contracts"] += made
    return contracts


# --- surveys ------------------------------------------------------------------------------


def _building_mood(building: Building, estate_index: int, round_index: int) -> float:
    """The mean overall rating a building gives: one building of the first estate is
    clearly less satisfied (its lifts and leaks); in the pilot estate one building is
    unhappy in the spring and won over by the summer."""
    number = int("".join(ch for ch in building.number if ch.isdigit()) or 0)
    if estate_index == 0 and number == 3:
        return 2.4
    if estate_index == 1 and number == 2:
        return 3.4 if round_index == 0 else 4.4
    return 4.4


def _rate(rng: random.Random, mood: float) -> int:
    return max(1, min(5, round(rng.gauss(mood, 0.7))))


def _answerers(community: Community) -> tuple[dict[int, User], dict[int, User]]:
    """household id → a resident's login (portal answers); grid id → its grid worker."""
    logins: dict[int, User] = {}
    for resident in (
        Resident.objects.filter(
            household__unit__building__estate__community=community,
            status=Resident.Status.ACTIVE,
            user__isnull=False,
            user__is_active=True,
        )
        .select_related("user")
        .order_by("pk")
    ):
        if resident.user is not None:
            logins.setdefault(resident.household_id, resident.user)
    workers: dict[int, User] = {}
    for membership in (
        Membership.objects.filter(
            role=Role.GRID_WORKER, is_active=True, grid__community=community, user__is_active=True
        )
        .select_related("user")
        .order_by("pk")
    ):
        assert membership.grid_id is not None
        workers.setdefault(membership.grid_id, membership.user)
    return logins, workers


def _surveys(
    community: Community, cast: Cast, contracts: list[ServiceContract], counts: dict[str, int]
) -> list[Survey]:
    company = cast.company
    if company is None:
        return []
    logins, workers = _answerers(community)
    estate_index = {estate.pk: n for n, estate in enumerate(cast.company_estates)}
    surveys = []
    for round_index, (title, start, end) in enumerate(ROUNDS):
        opens = _local(end - dt.timedelta(days=15), 9)
        closes = _local(end + dt.timedelta(days=1), 9)
        survey = Survey.objects.filter(community=community, provider=company, title=title).first()
        if survey is None:
            survey = survey_create(
                actor=cast.office,
                community=community,
                provider=company,
                estates=cast.company_estates,
                title=title,
                period_start=start,
                period_end=end,
                now=opens - dt.timedelta(days=3),
            )
            counts["surveys"] += 1
        if survey.status == Survey.Status.DRAFT:
            survey = survey_open(survey=survey, actor=cast.office, now=opens)
        if survey.status == Survey.Status.OPEN:
            answered = set(
                SurveyResponse.objects.filter(survey=survey).values_list("household_id", flat=True)
            )
            households = (
                Household.objects.filter(unit__building__estate__in=cast.company_estates)
                .select_related("unit__building")
                .order_by("pk")
            )
            for household in households:
                rng = random.Random(f"property-survey-{survey.pk}-{household.pk}")
                if rng.random() > 0.85 or household.pk in answered:
                    continue  # about one in seven households never answers
                building = household.unit.building
                mood = _building_mood(building, estate_index[building.estate_id], round_index)
                when = opens + dt.timedelta(hours=rng.randint(0, 13 * 24))
                login = logins.get(household.pk)
                actor = login or workers.get(building.grid_id or 0) or cast.office
                survey_answer(
                    survey=survey,
                    household=household,
                    actor=actor,
                    overall=_rate(rng, mood),
                    cleaning=_rate(rng, mood + 0.2),
                    security=_rate(rng, mood),
                    repairs=_rate(rng, mood - 0.4),
                    green_spaces=_rate(rng, mood),
                    parking=_rate(rng, mood - 0.6),
                    comment=rng.choice(SURVEY_COMMENTS),
                    now=when,
                    on_behalf=login is None,
                )
                counts["survey_answers"] += 1
            survey = survey_close(survey=survey, actor=cast.office, now=closes)
        surveys.append(survey)
    # Serve first, charge after: each quarter's months become payable, building by
    # building, when the quarter's survey closes with a good enough score.
    for contract in contracts:
        if contract.billing_mode != ServiceContract.BillingMode.SERVE_FIRST:
            continue
        for survey in surveys:
            period = survey.period_start
            while period <= survey.period_end:
                if contract.starts_on <= period < contract.ends_on:
                    assert survey.closed_at is not None
                    counts["buildings_released"] += len(
                        bills_release(contract=contract, period=period, now=survey.closed_at)
                    )
                period = (period + dt.timedelta(days=32)).replace(day=1)
    return surveys


# --- bills and payments -------------------------------------------------------------------


def _bills(contracts: list[ServiceContract], months: list[dt.date], counts: dict[str, int]) -> None:
    for contract in contracts:
        for period in months:
            if not contract.starts_on <= period < contract.ends_on:
                continue
            run = bills_generate(
                contract=contract, period=period, now=_local(period, 8), actor=None
            )
            counts["bills"] += run.created


def _habit(household_id: int, weak: bool) -> float:
    """How reliably a household pays: most always do, some never (they are unhappy)."""
    rng = random.Random(f"property-habit-{household_id}")
    roll = rng.random()
    if roll < (0.25 if weak else 0.04):
        return 0.0
    return 0.98 if roll < 0.8 else 0.88


def _payment_plan(bill: FeeBill, weak: bool, now: dt.datetime) -> tuple[dt.datetime, str] | None:
    """When (and how) a bill was paid, or None: drawn from the bill's own generator."""
    rng = random.Random(f"property-pay-{bill.household_id}-{bill.period:%Y%m}")
    if bill.payable_from is None or rng.random() > _habit(bill.household_id, weak):
        return None
    earliest = max(timezone.localdate(bill.payable_from), bill.period + dt.timedelta(days=3))
    late = rng.random() < (0.3 if weak else 0.12)
    if late:
        day = bill.due_on + dt.timedelta(days=rng.randint(3, 75))
    else:
        span = max((bill.due_on - earliest).days, 0)
        day = earliest + dt.timedelta(days=rng.randint(0, span))
    paid_at = _local(day, rng.randint(8, 19), rng.randint(0, 59))
    if paid_at >= now:
        return None  # not paid yet: in arrears on the demo's day
    method = rng.choices(list(FeePayment.Method.values), weights=(20, 25, 40, 15))[0]
    return paid_at, method


def _payments(
    contracts: list[ServiceContract],
    cast: Cast,
    weak_buildings: set[int],
    now: dt.datetime,
    counts: dict[str, int],
) -> None:
    for contract in contracts:
        is_company = cast.company is not None and contract.provider_id == cast.company.pk
        collector = cast.collector if is_company else cast.office
        unpaid = FeeBill.objects.filter(contract=contract, payments__isnull=True).order_by(
            "period", "pk"
        )
        plans = [
            (bill, plan)
            for bill in unpaid
            if (plan := _payment_plan(bill, bill.building_id in weak_buildings, now)) is not None
        ]
        plans.sort(key=lambda item: (item[1][0], item[0].pk))
        # One transaction per contract (as an import does): the body of the payment
        # service per bill, so each bill is locked, checked and awarded as on the page.
        with transaction.atomic(durable=True):
            for bill, (paid_at, method) in plans:
                payment = payment_record(
                    bill=bill,
                    amount=bill.amount,
                    method=method,
                    paid_at=paid_at,
                    actor=collector,
                    reference=f"SF{bill.period:%Y%m}-{bill.household_id}",
                    now=paid_at,
                )
                counts["payments"] += 1
                counts["points_awards"] += getattr(payment, "award", None) is not None


# --- scorecard and black list -------------------------------------------------------------


def _scorecards(
    community: Community, cast: Cast, contracts: list[ServiceContract], counts: dict[str, int]
) -> None:
    if not BlacklistRule.objects.filter(
        community=community,
        metric=BlacklistRule.Metric.SATISFACTION,
        comparison=BlacklistRule.Comparison.BELOW,
    ).exists():
        blacklist_rule_set(
            actor=cast.office,
            community=community,
            metric=BlacklistRule.Metric.SATISFACTION,
            comparison=BlacklistRule.Comparison.BELOW,
            threshold=BLACKLIST_BELOW,
        )
        counts["blacklist_rules"] += 1
    _title, start, end = ROUNDS[0]
    providers = sorted({c.provider_id for c in contracts})
    for provider in Organization.objects.filter(pk__in=providers).order_by("pk"):
        if Scorecard.objects.filter(
            community=community, provider=provider, period_start=start, period_end=end
        ).exists():
            continue
        scorecard_publish(
            actor=cast.office,
            community=community,
            provider=provider,
            period_start=start,
            period_end=end,
            now=_local(end + dt.timedelta(days=12), 10),
        )
        counts["scorecards"] += 1


# --- the self-managed fund ----------------------------------------------------------------


def _receipt() -> bytes:
    """A small made-up receipt photo: a white slip with a red stamp."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (120, 160), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for y in range(20, 120, 14):
        draw.line((12, y, 108, y), fill=(120, 120, 120), width=2)
    draw.ellipse((70, 112, 110, 152), outline=(200, 30, 30), width=4)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


def _committee(community: Community, office: User) -> tuple[Estate, list[User]] | None:
    """The estate whose committee has a member (冯委员 in the demo), and its members with
    the keeper and bookkeeper added (logins with the demo password)."""
    first = (
        Membership.objects.filter(
            role=Role.COMMITTEE_MEMBER,
            is_active=True,
            estate__community=community,
            user__is_active=True,
        )
        .select_related("estate", "user")
        .order_by("pk")
        .first()
    )
    if first is None or first.estate is None:
        return None
    estate = first.estate
    members = [first.user]
    for phone, name in COMMITTEE:
        user = User.objects.filter(phone=phone).first()
        if user is None:
            user = User.objects.create_user(phone, DEMO_PASSWORD, name=name)
        if not Membership.objects.filter(
            user=user, role=Role.COMMITTEE_MEMBER, estate=estate, is_active=True
        ).exists():
            membership_grant(
                actor=office,
                user=user,
                role=Role.COMMITTEE_MEMBER,
                estate=estate,
                community=community,
            )
        members.append(user)
    return estate, members


def _fund(community: Community, cast: Cast, now: dt.datetime, counts: dict[str, int]) -> None:
    found = _committee(community, cast.office)
    if found is None:
        return
    estate, (chair, keeper, bookkeeper) = found
    months = _months(now)
    fund = Fund.objects.filter(estate=estate).first()
    if fund is None:
        fund = fund_create(
            actor=cast.office,
            estate=estate,
            name=f"{estate.name}自管委资金",
            keeper=keeper,
            bookkeeper=bookkeeper,
            annual_fee="120.00",
            now=_local(months[0] + dt.timedelta(days=24), 10),
        )
        counts["funds"] += 1
    # The annual fee, collected door to door over the winter; most households pay.
    paid = set(
        FundEntry.objects.filter(fund=fund, kind=FundEntry.Kind.FEE).values_list(
            "household_id", flat=True
        )
    )
    season = months[1]
    for household in Household.objects.filter(unit__building__estate=estate).order_by("pk"):
        rng = random.Random(f"property-fund-fee-{household.pk}")
        if rng.random() > 0.72 or household.pk in paid:
            continue
        day = season + dt.timedelta(days=rng.randint(0, 110))
        fund_income_record(
            fund=fund,
            actor=keeper,
            kind=FundEntry.Kind.FEE,
            amount=fund.annual_fee,
            occurred_on=day,
            household=household,
            description=f"{day.year}年度自管费",
            now=_local(day, 19),
        )
        counts["fund_entries"] += 1
    donor = "惠民便利店"
    if not FundEntry.objects.filter(
        fund=fund, kind=FundEntry.Kind.DONATION, payer_name=donor
    ).exists():
        day = season + dt.timedelta(days=45)
        fund_income_record(
            fund=fund,
            actor=bookkeeper,
            kind=FundEntry.Kind.DONATION,
            amount="2000.00",
            occurred_on=day,
            payer_name=donor,
            description="春节慰问捐赠",
            now=_local(day, 15),
        )
        counts["fund_entries"] += 1
    for n, (purpose, amount, asked_on, outcome) in enumerate(EXPENSES):
        if ExpenseRequest.objects.filter(fund=fund, purpose=purpose).exists():
            continue
        asked = _local(asked_on, 10)
        if asked >= now:
            continue
        requester = chair if outcome != "requested" else keeper
        approver = (keeper, bookkeeper)[n % 2] if requester == chair else chair
        expense = expense_request(
            fund=fund, actor=requester, purpose=purpose, amount=amount, now=asked
        )
        counts["expenses"] += 1
        if outcome == "requested":
            continue
        expense = expense_decide(
            expense=expense,
            actor=approver,
            approve=outcome != "rejected",
            note="与社区中秋活动重复，不予支出。" if outcome == "rejected" else "同意。",
            now=asked + dt.timedelta(days=1),
        )
        if outcome == "rejected":
            continue
        expense = expense_pay(
            expense=expense,
            actor=keeper,
            receipts=[_receipt()] if purpose == RECEIPT_FOR else None,
            now=asked + dt.timedelta(days=3, hours=4),
        )
        counts["fund_entries"] += 1
        if outcome == "booked":
            expense_book(expense=expense, actor=bookkeeper, now=asked + dt.timedelta(days=4))


# --- the whole demo -----------------------------------------------------------------------


def property_demo_build(
    *, community: Community, now: dt.datetime = DEMO_NOW, months: int = 12
) -> dict[str, int]:
    """Providers, contracts, a year of bills and payments, surveys, a scorecard and a fund.

    `months` of bills (a year by default): nearly all the build's time is the payments,
    each through the payment service and the points ledger (about 3,800 for a year).
    """
    counts = dict.fromkeys(
        (
            "profiles",
            "contracts",
            "bills",
            "surveys",
            "survey_answers",
            "buildings_released",
            "payments",
            "points_awards",
            "blacklist_rules",
            "scorecards",
            "funds",
            "fund_entries",
            "expenses",
        ),
        0,
    )
    cast = _cast(community)
    if cast is None:
        return counts
    billed = _months(now, months)
    contracts = _contracts(community, cast, _months(now), counts)
    _bills(contracts, billed, counts)
    _surveys(community, cast, contracts, counts)
    # The less satisfied building also pays less: the circle the issue describes.
    weak = {
        building.pk
        for n, estate in enumerate(cast.company_estates)
        for building in estate.buildings.all()
        if _building_mood(building, n, 0) < 3
    }
    _payments(contracts, cast, weak, now, counts)
    _scorecards(community, cast, contracts, counts)
    _fund(community, cast, now, counts)
    return counts
