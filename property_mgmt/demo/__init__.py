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

from community.models import Community
from property_mgmt.demo.common import DEMO_NOW, cast_find, months_before
from property_mgmt.demo.contracts import bills_seed, contracts_seed, payments_seed
from property_mgmt.demo.funds import fund_seed
from property_mgmt.demo.surveys import building_mood, scorecards_seed, surveys_seed

__all__ = ["DEMO_NOW", "property_demo_build"]


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
    cast = cast_find(community)
    if cast is None:
        return counts
    billed = months_before(now, months)
    contracts = contracts_seed(community, cast, months_before(now), counts)
    bills_seed(contracts, billed, counts)
    surveys_seed(community, cast, contracts, counts)
    # The less satisfied building also pays less: the circle the issue describes.
    weak = {
        building.pk
        for n, estate in enumerate(cast.company_estates)
        for building in estate.buildings.all()
        if building_mood(building, n, 0) < 3
    }
    payments_seed(contracts, cast, weak, now, counts)
    scorecards_seed(community, cast, contracts, counts)
    fund_seed(community, cast, now, counts)
    return counts
