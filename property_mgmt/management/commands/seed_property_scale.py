"""`manage.py seed_property_scale --households N`: property fees at scale, for benchmarks.

Runs after `seed_scale` (and, for the scorecards' grievance figures, after
`seed_grievance_scale`), in its community (规模测试社区):

- **households**: the community is topped up to N households with estates of the same
  layout as `seed_scale`'s (16 buildings × 2 units × 25 floors × 2 flats, each flat a
  household with an area) but without residents: fees are billed to households;
- **providers**: the company `seed_scale` put on its estates keeps them; the new estates
  are shared among eight more companies (some of them red properties); every estate
  without a company (三无小区) gets its own self-management committee (自管委) charging
  25 RMB per household per month;
- **contracts**: one per estate from the first month billed, per m² (1.20–2.40 RMB) or
  per household, two of them serve-first (先服务后收费);
- **bills**: every household every month for MONTHS (24) months up to AS_OF's month,
  written by one INSERT … SELECT over `generate_series`, the amounts as `bills_generate`
  computes them; paid as a community would see it: each estate its own collection rate
  (55–94 % of older months), lower for last month and the current one, mostly on time,
  some late, a few half paid; a serve-first estate's last two months not yet released;
- **payments**: one row per bill paid (or half paid), recorded by the bench user;
- **surveys**: one closed survey per provider and quarter (seven quarters from 2025 Q1),
  answered by about a third of its households, each provider its own average.

Not written: history rows, the credit app's +5 on-time awards, fund entries.

One transaction, then VACUUM ANALYZE. Idempotent: when the community has bills it does nothing.
PostgreSQL only (generate_series, the bench database); about two minutes on two cores.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from community.management.commands.seed_scale import (
    BENCH_PHONE,
    BUILDINGS_PER_ESTATE,
    BUILDINGS_PER_GRID,
    COMMUNITY_CODE,
    FLATS_PER_FLOOR,
    FLOORS,
    UNITS_PER_BUILDING,
    estate_name,
)
from community.models import Building, Community, Estate, Grid, Household, Organization, Unit
from property_mgmt.models import (
    FeeBill,
    FeePayment,
    ProviderProfile,
    ServiceContract,
    Survey,
    SurveyResponse,
)

#: The last month billed (that of seed_grievance_scale's AS_OF), and how many months.
LAST_MONTH = dt.date(2026, 11, 1)
MONTHS = 24
AS_OF = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
#: The quarters surveyed: 2025 Q1 … 2026 Q3.
FIRST_SURVEY_QUARTER = dt.date(2025, 1, 1)
SURVEY_QUARTERS = 7
AREAS = (56, 72, 89, 98, 120, 135)
COMPANY_WORDS = ("安居", "嘉园", "恒信", "誉德", "华宇", "宜居", "和顺", "万家")
#: Every third company is a red property (红色物业) with its own party branch.
RED_EVERY = 3
COMMITTEE_FEE = Decimal("25.00")
SERVE_FIRST_ESTATES = 2


def first_month(last: dt.date = LAST_MONTH, months: int = MONTHS) -> dt.date:
    index = last.year * 12 + last.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_end(start: dt.date) -> dt.date:
    index = start.year * 12 + start.month - 1 + 3
    return dt.date(index // 12, index % 12 + 1, 1) - dt.timedelta(days=1)


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


#: Bills of the given contracts, every household of their estates, every month. `r` and
#: `s` are two deterministic draws in [0, 1) per household and month; `rate` the estate's
#: collection rate for older months (55–94 %), 0.7 × it last month, 0.3 × it this month.
BILLS_SQL = """
INSERT INTO {bill} (contract_id, household_id, building_id, estate_id, period, amount,
                    paid_amount, due_on, payable_from, paid_at, created_at)
SELECT contract_id, household_id, building_id, estate_id, period, amount,
       CASE WHEN NOT payable OR r >= rate THEN 0
            WHEN s < 0.02 THEN ROUND(amount / 2, 2)
            ELSE amount END,
       due_on,
       CASE WHEN payable THEN period::timestamptz END,
       CASE WHEN NOT payable OR r >= rate OR s < 0.02 THEN NULL
            WHEN s < 0.85 THEN LEAST(period + (1 + FLOOR(s * 28))::int, %(as_of)s::date)::timestamptz
                               + INTERVAL '10 hours'
            ELSE LEAST(due_on + (1 + FLOOR(r * 60))::int, %(as_of)s::date)::timestamptz
                 + INTERVAL '15 hours' END,
       period::timestamptz
FROM (
    SELECT c.id AS contract_id, h.id AS household_id, b.id AS building_id,
           b.estate_id, p.period::date AS period,
           CASE WHEN c.fee_basis = 'per_household' THEN c.fee_standard
                ELSE ROUND(COALESCE(h.area_m2, 80) * c.fee_standard, 2) END AS amount,
           p.period::date + c.due_days AS due_on,
           NOT (c.billing_mode = 'serve_first' AND p.period >= %(unreleased_from)s) AS payable,
           ((h.id::bigint * 2654435761 + EXTRACT(MONTH FROM p.period)::bigint * 40503
             + EXTRACT(YEAR FROM p.period)::bigint * 7919) %% 1000003) / 1000003.0 AS r,
           ((h.id::bigint * 40503 + EXTRACT(MONTH FROM p.period)::bigint * 2654435761
             + EXTRACT(YEAR FROM p.period)::bigint * 104729) %% 999983) / 999983.0 AS s,
           (0.55 + ((b.estate_id * 37) %% 40) / 100.0)
             * CASE WHEN p.period = %(last)s THEN 0.3
                    WHEN p.period = %(before_last)s THEN 0.7 ELSE 1 END AS rate
    FROM {contract} c
    JOIN {building} b ON b.estate_id = c.estate_id
    JOIN {unit} u ON u.building_id = b.id
    JOIN {household} h ON h.unit_id = u.id
    CROSS JOIN generate_series(%(first)s::date, %(last)s::date, INTERVAL '1 month') AS p(period)
    WHERE c.id = ANY(%(contracts)s)
) AS drawn
"""

PAYMENTS_SQL = """
INSERT INTO {payment} (bill_id, amount, method, source, reference, paid_at, recorded_by_id,
                       recorded_at)
SELECT id, paid_amount, (ARRAY['cash', 'transfer', 'wechat', 'alipay'])[1 + id %% 4], 'manual',
       '', COALESCE(paid_at, period + INTERVAL '20 days'), %(user)s,
       COALESCE(paid_at, period + INTERVAL '20 days')
FROM {bill}
WHERE estate_id = ANY(%(estates)s) AND paid_amount > 0
"""

#: About a third of a survey's households answer; `quality` is the provider's mean
#: overall rating, answers spread ±1.5 around it.
ANSWERS_SQL = """
INSERT INTO {answer} (survey_id, household_id, building_id, estate_id, respondent_id, channel,
                      entered_by_id, overall, cleaning, security, repairs, green_spaces,
                      parking, comment, created_at)
SELECT %(survey)s, h.id, b.id, b.estate_id, NULL,
       CASE WHEN h.id %% 9 = 0 THEN 'on_behalf' ELSE 'portal' END, %(user)s,
       LEAST(5, GREATEST(1, ROUND(%(quality)s + (((h.id * 7919 + %(survey)s * 31) %% 1000) / 1000.0 - 0.5) * 3))),
       LEAST(5, GREATEST(1, ROUND(%(quality)s + (((h.id * 104729 + %(survey)s) %% 1000) / 1000.0 - 0.5) * 3))),
       NULL, NULL, NULL, NULL, '',
       %(answered_at)s::timestamptz + ((h.id %% 20) || ' days')::interval
FROM {household} h
JOIN {unit} u ON u.id = h.unit_id
JOIN {building} b ON b.id = u.building_id
WHERE b.estate_id = ANY(%(estates)s) AND (h.id * 2654435761 + %(survey)s) %% 3 = 0
"""


class Command(BaseCommand):
    help = (
        f"Property fees for benchmarks in the seed_scale community ({COMMUNITY_CODE}): top "
        "it up to N households, contracts for every estate, MONTHS months of bills and "
        "payments, seven quarters of surveys. PostgreSQL only. Does nothing when bills exist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--households", type=int, default=100_000, help="target count")
        parser.add_argument("--months", type=int, default=MONTHS, help="months billed")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if connection.vendor != "postgresql":
            raise CommandError("seed_property_scale loads with generate_series: PostgreSQL only")
        community = Community.objects.filter(code=COMMUNITY_CODE).first()
        user = User.objects.filter(phone=BENCH_PHONE).first()
        if community is None or user is None:
            raise CommandError("run `manage.py seed_scale` first")
        if FeeBill.objects.filter(estate__community=community).exists():
            bills = FeeBill.objects.filter(estate__community=community).count()
            self.stdout.write(f"nothing to do: {bills} bills already in {community.name}")
            return
        with transaction.atomic():
            added = self.top_up_households(community, options["households"])
            contracts = self.contracts(community, options["months"])
            bills, payments = self.bills(community, contracts, options["months"], user)
            answers = self.surveys(community, contracts, user)
        # VACUUM too: the collection rates are index-only scans once the visibility map
        # is set, as autovacuum leaves a live table.
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM ANALYZE "
                + ", ".join(
                    _table(m)
                    for m in (
                        Estate,
                        Building,
                        Unit,
                        Household,
                        FeeBill,
                        FeePayment,
                        SurveyResponse,
                    )
                )
            )
        households = Household.objects.filter(unit__building__estate__community=community).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"seed_property_scale: {households} households ({added} added), "
                f"{len(contracts)} contracts, {bills} bills, {payments} payments, {answers} "
                f"survey answers in {time.monotonic() - started:.0f}s"
            )
        )

    # --- households ---------------------------------------------------------------------

    def top_up_households(self, community: Community, target: int) -> int:
        """Estates of households without residents until the community has `target`."""
        have = Household.objects.filter(unit__building__estate__community=community).count()
        index = Estate.objects.filter(community=community).count()
        added = 0
        companies = self.companies(community)
        while have + added < target:
            estate = Estate.objects.create(
                community=community,
                name=estate_name(index),
                address=f"规模路{index + 1}号",
                property_company=companies[index % len(companies)],
            )
            grids = Grid.objects.bulk_create(
                [
                    Grid(community=community, name=f"{estate.name}第{g + 1}网格")
                    for g in range(math.ceil(BUILDINGS_PER_ESTATE / BUILDINGS_PER_GRID))
                ]
            )
            buildings = Building.objects.bulk_create(
                [
                    Building(
                        estate=estate,
                        number=f"{b + 1}号楼",
                        floors=FLOORS,
                        grid=grids[b // BUILDINGS_PER_GRID],
                    )
                    for b in range(BUILDINGS_PER_ESTATE)
                ]
            )
            units = Unit.objects.bulk_create(
                [
                    Unit(building=building, number=f"{u + 1}单元")
                    for building in buildings
                    for u in range(UNITS_PER_BUILDING)
                ]
            )
            flats = [
                Household(
                    unit=unit,
                    room=f"{floor}{door:02d}",
                    area_m2=AREAS[(unit.pk * 7 + floor * 3 + door) % len(AREAS)],
                )
                for unit in units
                for floor in range(1, FLOORS + 1)
                for door in range(1, FLATS_PER_FLOOR + 1)
            ][: target - have - added]
            Household.objects.bulk_create(flats, batch_size=2000)
            added += len(flats)
            index += 1
        return added

    def companies(self, community: Community) -> list[Organization]:
        """The eight companies the new estates are shared among (created once)."""
        found = []
        for number, word in enumerate(COMPANY_WORDS):
            red = number % RED_EVERY == 0
            company, _created = Organization.objects.get_or_create(
                kind=Organization.Kind.PROPERTY_COMPANY,
                name=f"规模测试{word}物业有限公司",
                defaults={"street": community.street},
            )
            ProviderProfile.objects.get_or_create(
                organization=company,
                defaults={
                    "is_red_property": red,
                    "party_branch": f"{word}物业党支部" if red else "",
                    "hotline": f"0571-8800{number:04d}",
                },
            )
            found.append(company)
        return found

    # --- contracts ----------------------------------------------------------------------

    def contracts(self, community: Community, months: int) -> list[ServiceContract]:
        """One contract per estate from the first month billed; a committee of its own for
        every estate without a company."""
        start = first_month(months=months)
        contracts = []
        estates = list(Estate.objects.filter(community=community).order_by("pk"))
        for number, estate in enumerate(estates):
            provider = estate.property_company
            per_household = provider is None
            if provider is None:
                provider = Organization.objects.create(
                    kind=Organization.Kind.PROPERTY_COMPANY,
                    name=f"{estate.name}自管委",
                    street=community.street,
                )
                ProviderProfile.objects.create(
                    organization=provider, kind=ProviderProfile.Kind.COMMITTEE
                )
            serve_first = not per_household and number % 20 == 1 and number < 40
            contracts.append(
                ServiceContract(
                    provider=provider,
                    estate=estate,
                    starts_on=start,
                    ends_on=dt.date(2027, 12, 31),
                    fee_basis=(
                        ServiceContract.FeeBasis.PER_HOUSEHOLD
                        if per_household
                        else ServiceContract.FeeBasis.PER_M2
                    ),
                    fee_standard=(
                        COMMITTEE_FEE
                        if per_household
                        else Decimal("1.20") + Decimal("0.20") * (provider.pk % 7)
                    ),
                    billing_mode=(
                        ServiceContract.BillingMode.SERVE_FIRST
                        if serve_first
                        else ServiceContract.BillingMode.NORMAL
                    ),
                    serve_first_threshold=Decimal("3.50") if serve_first else None,
                    promises="1715",
                )
            )
        return ServiceContract.objects.bulk_create(contracts)

    # --- bills and payments -------------------------------------------------------------

    def bills(
        self, community: Community, contracts: list[ServiceContract], months: int, user: User
    ) -> tuple[int, int]:
        last = LAST_MONTH
        before_last = first_month(last, 2)
        tables = {
            "bill": _table(FeeBill),
            "payment": _table(FeePayment),
            "contract": _table(ServiceContract),
            "building": _table(Building),
            "unit": _table(Unit),
            "household": _table(Household),
        }
        with connection.cursor() as cursor:
            cursor.execute(
                BILLS_SQL.format(**tables),
                {
                    "contracts": [c.pk for c in contracts],
                    "first": first_month(last, months),
                    "last": last,
                    "before_last": before_last,
                    "unreleased_from": before_last,
                    "as_of": AS_OF.date(),
                },
            )
            bills = cursor.rowcount
            cursor.execute(
                PAYMENTS_SQL.format(**tables),
                {"estates": [c.estate_id for c in contracts], "user": user.pk},
            )
            payments = cursor.rowcount
        return bills, payments

    # --- surveys ------------------------------------------------------------------------

    def surveys(self, community: Community, contracts: list[ServiceContract], user: User) -> int:
        estates_of: dict[int, list[int]] = {}
        for contract in contracts:
            estates_of.setdefault(contract.provider_id, []).append(contract.estate_id)
        tables = {
            "answer": _table(SurveyResponse),
            "household": _table(Household),
            "unit": _table(Unit),
            "building": _table(Building),
        }
        answers = 0
        for provider_id, estates in sorted(estates_of.items()):
            quality = Decimal("2.8") + Decimal("0.25") * (provider_id % 7)
            start = FIRST_SURVEY_QUARTER
            for _quarter in range(SURVEY_QUARTERS):
                end = quarter_end(start)
                closes = timezone.make_aware(dt.datetime.combine(end, dt.time(18)), dt.UTC)
                survey = Survey.objects.create(
                    community=community,
                    provider_id=provider_id,
                    title=f"{start.year}年第{(start.month - 1) // 3 + 1}季度物业满意度测评",
                    period_start=start,
                    period_end=end,
                    status=Survey.Status.CLOSED,
                    opened_at=closes - dt.timedelta(days=30),
                    closed_at=closes,
                    created_by=user,
                )
                survey.estates.set(estates)
                with connection.cursor() as cursor:
                    cursor.execute(
                        ANSWERS_SQL.format(**tables),
                        {
                            "survey": survey.pk,
                            "user": user.pk,
                            "quality": quality,
                            "estates": estates,
                            "answered_at": closes - dt.timedelta(days=25),
                        },
                    )
                    answers += cursor.rowcount
                start = end + dt.timedelta(days=1)
        return answers
