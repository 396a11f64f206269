"""The property demo's providers and contracts, a year of bills and their payments.

Payments go through the payment service, so a bill paid in full by its due date earns
"fee-on-time" +5 through the credit ledger, once per bill.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from community.models import Community, Estate, Organization
from grievances.models import Category
from property_mgmt.demo.common import Cast, local_time
from property_mgmt.models import FeeBill, FeePayment, ProviderProfile, ServiceContract
from property_mgmt.services.contracts import contract_create, provider_profile_save
from property_mgmt.services.fees import bills_generate, payment_record

D = Decimal

PROMISES = (
    "1715服务承诺：接单后10分钟到场，一般问题1小时内解决，复杂问题1天内拿出方案；"
    "物业服务热线24小时有人接听。"
)
SERVE_FIRST_FROM = dt.date(2026, 4, 1)
SERVE_FIRST_THRESHOLD = D("4.0")


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


def contracts_seed(
    community: Community, cast: Cast, months: list[dt.date], counts: dict[str, int]
) -> list[ServiceContract]:
    """Provider profiles and contracts: the company's estates (one a serve-first pilot from
    the spring) and each company-less estate's committee."""
    office = cast.office
    start = months[0]
    signed = local_time(start - dt.timedelta(days=20), 10)
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
                local_time(SERVE_FIRST_FROM - dt.timedelta(days=10), 10),
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


def bills_seed(
    contracts: list[ServiceContract], months: list[dt.date], counts: dict[str, int]
) -> None:
    """Every contract's bills for the months it covers."""
    for contract in contracts:
        for period in months:
            if not contract.starts_on <= period < contract.ends_on:
                continue
            run = bills_generate(
                contract=contract, period=period, now=local_time(period, 8), actor=None
            )
            counts["bills"] += run.created


def _home_key(bill: FeeBill) -> str:
    """The household by its address, not its id: the same draws whatever ids the database
    handed out (ids depend on what was inserted before)."""
    unit = bill.household.unit
    return f"{unit.building.estate.name}-{unit.building.number}-{unit.number}-{bill.household.room}"


def _habit(home: str, weak: bool) -> float:
    """How reliably a household pays: most always do, some never (they are unhappy)."""
    rng = random.Random(f"property-habit-{home}")
    roll = rng.random()
    if roll < (0.25 if weak else 0.04):
        return 0.0
    return 0.98 if roll < 0.8 else 0.88


def _payment_plan(bill: FeeBill, weak: bool, now: dt.datetime) -> tuple[dt.datetime, str] | None:
    """When (and how) a bill was paid, or None: drawn from the bill's own generator."""
    home = _home_key(bill)
    rng = random.Random(f"property-pay-{home}-{bill.period:%Y%m}")
    if bill.payable_from is None or rng.random() > _habit(home, weak):
        return None
    earliest = max(timezone.localdate(bill.payable_from), bill.period + dt.timedelta(days=3))
    late = rng.random() < (0.3 if weak else 0.12)
    if late:
        day = bill.due_on + dt.timedelta(days=rng.randint(3, 75))
    else:
        span = max((bill.due_on - earliest).days, 0)
        day = earliest + dt.timedelta(days=rng.randint(0, span))
    paid_at = local_time(day, rng.randint(8, 19), rng.randint(0, 59))
    if paid_at >= now:
        return None  # not paid yet: in arrears on the demo's day
    method = rng.choices(list(FeePayment.Method.values), weights=(20, 25, 40, 15))[0]
    return paid_at, method


def payments_seed(
    contracts: list[ServiceContract],
    cast: Cast,
    weak_buildings: set[int],
    now: dt.datetime,
    counts: dict[str, int],
) -> None:
    """The payments each bill's own generator plans, in the order they were made."""
    for contract in contracts:
        is_company = cast.company is not None and contract.provider_id == cast.company.pk
        collector = cast.collector if is_company else cast.office
        unpaid = (
            FeeBill.objects.filter(contract=contract, payments__isnull=True)
            .select_related("household__unit__building__estate")
            .order_by("period", "pk")
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
