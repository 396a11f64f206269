"""The property demo's two survey rounds (answered on the portal, or by the grid worker on
a household's behalf), the serve-first releases they decide, and a scorecard with its
black-list rule.

One building of the first estate is clearly less satisfied; in the serve-first pilot
estate one building rates poorly in the spring, so its spring bills are never released.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from accounts.models import User
from community.models import Building, Community, Household, Membership, Organization, Resident
from property_mgmt.demo.common import Cast, Role, local_time
from property_mgmt.models import (
    BlacklistRule,
    Scorecard,
    ServiceContract,
    Survey,
    SurveyResponse,
)
from property_mgmt.services.fees import bills_release
from property_mgmt.services.scorecards import blacklist_rule_set, scorecard_publish
from property_mgmt.services.surveys import survey_answer, survey_close, survey_create, survey_open

BLACKLIST_BELOW = Decimal("3.0")

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


def building_mood(building: Building, estate_index: int, round_index: int) -> float:
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


def surveys_seed(
    community: Community, cast: Cast, contracts: list[ServiceContract], counts: dict[str, int]
) -> list[Survey]:
    """Both rounds created, opened, answered and closed; then the serve-first releases."""
    company = cast.company
    if company is None:
        return []
    logins, workers = _answerers(community)
    estate_index = {estate.pk: n for n, estate in enumerate(cast.company_estates)}
    surveys = []
    for round_index, (title, start, end) in enumerate(ROUNDS):
        opens = local_time(end - dt.timedelta(days=15), 9)
        closes = local_time(end + dt.timedelta(days=1), 9)
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
                mood = building_mood(building, estate_index[building.estate_id], round_index)
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


def scorecards_seed(
    community: Community, cast: Cast, contracts: list[ServiceContract], counts: dict[str, int]
) -> None:
    """The black-list rule, and the first round's scorecard for every provider."""
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
            now=local_time(end + dt.timedelta(days=12), 10),
        )
        counts["scorecards"] += 1
