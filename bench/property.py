"""The property part of `make bench` (issue 6): fee collection rates and the scorecards, with
100,000 households and two years of monthly bills.

`seed_property_scale` tops the scale community up to 100,000 households (estates without
residents next to `seed_scale`'s), gives every estate a contract (the seed's company, eight
more, a committee for each estate without one), 24 monthly bills per household up to
November 2026 (2.4 million) with their payments, and seven quarters of surveys. Then:

- The judged pair (HTTP, target 0.5 ×): the collection rate of an estate for a month as
  the API serves it (`/api/v1/property/estates/<id>/collection/?month=2026-10`: per
  building and in total), as the bench user (community staff), for the estate with the
  most bills that month (1,600 households in 16 buildings), against
  `R20_property_collection`, the resident list's R20 reference with the same session.
- The office's page itself, HTML with the whole layout (informative):
  `/property/fees/estates/<id>/?month=2026-10`, which shows the same rows plus the year by
  month and the bill-run controls, next to its own R20.
- Query counts in-process (Django test Client, warm): the API and the page for that
  estate and for the estate with the fewest bills that month make the same number.
- `property_scorecards.ms` (in-process, gunicorn stopped): `scorecards_compute_all` for
  2026 Q3 (every provider serving the community: households served, survey answers,
  grievances and their clocks, bills), against `property_scorecards_sql.ms`, the same
  figures by hand-written aggregate SQL (one statement per figure group, as the selector
  has); both warmed up, then interleaved, median of BENCH_SCORECARD_REPEATS (5) each.
  Target at most 2 × (ratio = median of the rounds' ORM / SQL). The two must agree.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
SCORECARD_REPEATS = max(3, int(os.environ.get("BENCH_SCORECARD_REPEATS", "5")))
#: The month measured (complete, paid as a community sees it a month later) and the quarter.
MONTH = dt.date(2026, 10, 1)
QUARTER = (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
API_PATH = "/api/v1/property/estates/{}/collection/?month=2026-10"
PAGE_PATH = "/property/fees/estates/{}/?month=2026-10"
PAGES = ("property_collection_api", "property_collection_page")


class PropertyBenchError(RuntimeError):
    """The property measurements could not run (seed missing, a page not as expected)."""


@dataclass(frozen=True)
class PropertySetup:
    community_id: int
    estate_id: int  # the most bills in MONTH
    estate_bills: int
    estate_buildings: int
    small_estate_id: int  # the fewest bills in MONTH
    small_estate_bills: int
    households: int
    bills: int
    providers: int

    def api_path(self, estate_id: int | None = None) -> str:
        return API_PATH.format(estate_id or self.estate_id)

    def page_path(self, estate_id: int | None = None) -> str:
        return PAGE_PATH.format(estate_id or self.estate_id)


def prepare_property(community_id: int) -> PropertySetup:
    """Seed if needed (`seed_property_scale`: minutes the first time, nothing after)."""
    from django.core.management import call_command

    call_command("seed_property_scale", households=HOUSEHOLDS)
    return property_setup(community_id)


def property_setup(community_id: int) -> PropertySetup:
    from django.db.models import Count

    from community.models import Household
    from property_mgmt.models import FeeBill, ServiceContract

    per_estate = list(
        FeeBill.objects.filter(estate__community_id=community_id, period=MONTH)
        .values("estate_id")
        .annotate(n=Count("*"), buildings=Count("building_id", distinct=True))
        .order_by("-n", "estate_id")
    )
    if not per_estate:
        raise PropertyBenchError(f"no bills for {MONTH:%Y-%m}: seed_property_scale wrote none")
    big, small = per_estate[0], per_estate[-1]
    return PropertySetup(
        community_id=community_id,
        estate_id=big["estate_id"],
        estate_bills=big["n"],
        estate_buildings=big["buildings"],
        small_estate_id=small["estate_id"],
        small_estate_bills=small["n"],
        households=Household.objects.filter(
            unit__building__estate__community_id=community_id
        ).count(),
        bills=FeeBill.objects.filter(estate__community_id=community_id).count(),
        providers=ServiceContract.objects.filter(estate__community_id=community_id)
        .values("provider_id")
        .distinct()
        .count(),
    )


# --- query counts, in-process -------------------------------------------------------------------


def page_queries(setup: PropertySetup, staff_phone: str) -> dict[str, int]:
    """Queries per request of the API and the page for the biggest and the smallest
    estate (warm); checks that the biggest estate's rows are all there."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(phone=staff_phone))
    counts: dict[str, int] = {}
    for who, estate_id in (("", setup.estate_id), (".small_estate", setup.small_estate_id)):
        for name, path in (
            ("property_collection_api", setup.api_path(estate_id)),
            ("property_collection_page", setup.page_path(estate_id)),
        ):
            client.get(path)  # warm
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path)
            if response.status_code != 200:
                raise PropertyBenchError(f"{path} answered {response.status_code} in-process")
            if name == "property_collection_api" and not who:
                body = response.json()
                if (
                    len(body["buildings"]) != setup.estate_buildings
                    or body["total"]["households"] != setup.estate_bills
                ):
                    raise PropertyBenchError(f"{path} does not show the estate's {MONTH:%Y-%m}")
            counts[f"{name}{who}"] = len(ctx.captured_queries)
    return counts


# --- the scorecards: ORM against hand-written SQL -------------------------------------------------

SQL_ESTATES = """
SELECT e.id, e.property_company_id FROM community_estate e
WHERE e.community_id = %(community)s AND e.property_company_id IS NOT NULL
UNION
SELECT c.estate_id, c.provider_id FROM property_mgmt_servicecontract c
JOIN community_estate e ON e.id = c.estate_id
WHERE e.community_id = %(community)s AND c.starts_on <= %(end)s AND c.ends_on > %(start)s
"""
SQL_HOUSEHOLDS = """
SELECT b.estate_id, COUNT(*) FROM community_household h
JOIN community_unit u ON u.id = h.unit_id
JOIN community_building b ON b.id = u.building_id
WHERE b.estate_id = ANY(%(estates)s)
GROUP BY b.estate_id
"""
SQL_ANSWERS = """
SELECT s.provider_id, COUNT(*), SUM(r.overall) FROM property_mgmt_surveyresponse r
JOIN property_mgmt_survey s ON s.id = r.survey_id
WHERE s.community_id = %(community)s AND s.provider_id = ANY(%(providers)s)
  AND s.status IN ('open', 'closed')
  AND s.period_start >= %(start)s AND s.period_end <= %(end)s
GROUP BY s.provider_id
"""
SQL_GRIEVANCES = """
SELECT g.handler_organization_id, COUNT(*),
       COUNT(*) FILTER (WHERE g.reopen_count > 0),
       COUNT(*) FILTER (WHERE g.reopen_count > 0 OR g.status IN ('resolved', 'closed'))
FROM grievances_grievance g
WHERE g.community_id = %(community)s AND g.submitted_at >= %(low)s
  AND g.submitted_at < %(high)s AND g.status <> 'merged'
  AND g.handler_organization_id = ANY(%(providers)s)
GROUP BY g.handler_organization_id
"""
SQL_CLOCKS = """
SELECT g.handler_organization_id,
       COUNT(*) FILTER (WHERE k.state = 'stopped'
                           OR (k.state = 'running' AND k.due_at < %(now)s)
                           OR (k.state = 'paused' AND k.due_at < k.paused_at)),
       COUNT(*) FILTER (WHERE k.state = 'stopped' AND k.met_at <= k.due_at)
FROM grievances_slaclock k
JOIN grievances_grievance g ON g.id = k.grievance_id
WHERE g.community_id = %(community)s AND g.submitted_at >= %(low)s
  AND g.submitted_at < %(high)s AND g.status <> 'merged'
  AND g.handler_organization_id = ANY(%(providers)s)
GROUP BY g.handler_organization_id
"""
SQL_BILLS = """
SELECT c.provider_id, SUM(b.amount), SUM(b.paid_amount) FROM property_mgmt_feebill b
JOIN community_estate e ON e.id = b.estate_id
JOIN property_mgmt_servicecontract c ON c.id = b.contract_id
WHERE e.community_id = %(community)s AND c.provider_id = ANY(%(providers)s)
  AND b.period >= %(start)s AND b.period <= %(end)s
GROUP BY c.provider_id
"""
SQL_NAMES = "SELECT id, name FROM community_organization WHERE id = ANY(%(providers)s)"

#: Per provider: households, answers, rating total, filed, reopened, resolved once,
#: judged clocks, met clocks, billed, paid.
Figures = tuple[int, int, int, int, int, int, int, int, Decimal, Decimal]


def scorecards_by_hand(community_id: int, now: dt.datetime) -> dict[int, Figures]:
    from django.db import connection

    from grievances.selectors.e_kpis import _bounds

    start, end = QUARTER
    low, high = _bounds(start, end)
    params: dict[str, Any] = {
        "community": community_id,
        "start": start,
        "end": end,
        "low": low,
        "high": high,
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(SQL_ESTATES, params)
        served: dict[int, set[int]] = defaultdict(set)
        for estate_id, provider_id in cursor.fetchall():
            served[provider_id].add(estate_id)
        params["providers"] = sorted(served)
        params["estates"] = sorted(set().union(*served.values())) if served else []
        results = []
        for sql in (SQL_HOUSEHOLDS, SQL_ANSWERS, SQL_GRIEVANCES, SQL_CLOCKS, SQL_BILLS, SQL_NAMES):
            cursor.execute(sql, params)
            results.append({row[0]: row[1:] for row in cursor.fetchall()})
    households, answers, grievances, clocks, bills, _names = results
    return {
        provider: (
            sum(households.get(e, (0,))[0] for e in estates),
            *answers.get(provider, (0, 0)),
            *grievances.get(provider, (0, 0, 0)),
            *clocks.get(provider, (0, 0)),
            *(Decimal(v or 0) for v in bills.get(provider, (0, 0))),
        )
        for provider, estates in served.items()
    }


def _orm_figures(figures: list[Any]) -> dict[int, tuple[Any, ...]]:
    """What both sides must agree on, from the selector's ScorecardFigures."""
    return {
        f.provider_id: (
            f.households,
            f.survey_answers,
            f.satisfaction,
            f.complaints,
            f.on_time_rate,
            f.reopen_rate,
            f.billed,
            f.paid,
        )
        for f in figures
    }


def _hand_figures(rows: dict[int, Figures]) -> dict[int, tuple[Any, ...]]:
    from property_mgmt.selectors.surveys import average, rate

    return {
        provider: (
            hh,
            n,
            average(total, n),
            filed,
            rate(met, judged),
            rate(reopened, resolved_once),
            billed,
            paid,
        )
        for provider, (hh, n, total, filed, reopened, resolved_once, judged, met, billed, paid) in (
            rows.items()
        )
    }


@dataclass(frozen=True)
class ScorecardTiming:
    orm: float
    sql: float
    ratio: float
    providers: int
    bills: int  # billed in the quarter, all providers
    complaints: int


def time_scorecards(setup: PropertySetup, repeats: int = SCORECARD_REPEATS) -> ScorecardTiming:
    from django.db.models import Count

    from community.models import Community
    from grievances.management.commands.seed_grievance_scale import AS_OF
    from property_mgmt.models import FeeBill
    from property_mgmt.selectors.scorecards import scorecards_compute_all

    community = Community.objects.get(pk=setup.community_id)
    start, end = QUARTER

    def orm() -> list[Any]:
        return scorecards_compute_all(
            community=community, period_start=start, period_end=end, now=AS_OF
        )

    def by_hand() -> dict[int, Figures]:
        return scorecards_by_hand(setup.community_id, AS_OF)

    def timed(work: Any) -> tuple[float, Any]:
        started = time.perf_counter()
        result = work()
        return (time.perf_counter() - started) * 1000, result

    _t, orm_rows = timed(orm)
    _t, sql_rows = timed(by_hand)
    if _orm_figures(orm_rows) != _hand_figures(sql_rows):
        raise PropertyBenchError("scorecards_compute_all and the SQL by hand disagree")
    times: dict[str, list[float]] = {"orm": [], "sql": []}
    for round_no in range(repeats):
        order = [("orm", orm), ("sql", by_hand)]
        for key, work in order if round_no % 2 == 0 else order[::-1]:
            times[key].append(timed(work)[0])
    return ScorecardTiming(
        orm=statistics.median(times["orm"]),
        sql=statistics.median(times["sql"]),
        ratio=statistics.median(o / s for o, s in zip(times["orm"], times["sql"], strict=True)),
        providers=len(orm_rows),
        bills=FeeBill.objects.filter(
            estate__community_id=setup.community_id, period__gte=start, period__lte=end
        ).aggregate(n=Count("*"))["n"],
        complaints=sum(f.complaints for f in orm_rows),
    )


# --- rows --------------------------------------------------------------------------------------


def query_count_rows(counts: dict[str, int]) -> list[dict[str, Any]]:
    """The API's and the page's queries for the smallest estate (informative) and the
    biggest: the same number."""
    from bench.results import make_row

    rows = []
    for page in PAGES:
        small = counts[f"{page}.small_estate"]
        rows.append(make_row(f"{page}.queries.small_estate", small, "queries/request"))
        rows.append(
            make_row(
                f"{page}.queries.big_estate",
                counts[page],
                "queries/request",
                reference=f"{page}.queries.small_estate",
                reference_value=small,
                target=1.0,
                exact=True,
            )
        )
    return rows


def timing_rows(timing: ScorecardTiming) -> list[dict[str, Any]]:
    from bench.results import make_row

    return [
        make_row("property_scorecards_sql.ms", timing.sql, "ms"),
        make_row(
            "property_scorecards.ms",
            timing.orm,
            "ms",
            reference="property_scorecards_sql.ms",
            reference_value=timing.sql,
            target=2.0,
            at_most=True,
            ratio=timing.ratio,
        ),
    ]


def summary(setup: PropertySetup, counts: dict[str, int], timing: ScorecardTiming) -> str:
    return "\n".join(
        [
            f"property: {setup.households:,} households, {setup.bills:,} bills, "
            f"{setup.providers} providers; the estate measured has {setup.estate_bills} bills "
            f"in {setup.estate_buildings} buildings for {MONTH:%Y-%m}, the smallest "
            f"{setup.small_estate_bills}",
            "queries/request, smallest / biggest estate: collection API "
            f"{counts['property_collection_api.small_estate']} / "
            f"{counts['property_collection_api']}, page "
            f"{counts['property_collection_page.small_estate']} / "
            f"{counts['property_collection_page']}",
            f"scorecards {QUARTER[0]:%Y-%m}–{QUARTER[1]:%Y-%m} ({timing.providers} providers, "
            f"{timing.bills:,} bills, {timing.complaints:,} grievances): {timing.orm:.1f} ms by "
            f"scorecards_compute_all vs {timing.sql:.1f} ms by hand, ratio {timing.ratio:.2f} "
            f"(target <= 2): {'yes' if timing.ratio <= 2 else 'NO'}",
        ]
    )
