"""A provider's scorecard for a period (物业考核), and the public black list (挂黑榜).

The figures, per provider serving a community:

- **households served**: households of the estates it serves in the community during the
  period (the registry's property company, or a service contract overlapping it);
- **satisfaction**: average overall rating of the answers to its surveys in the community
  whose period lies inside the period, and the number of answers;
- **on-time rate and reopen rate**: of the grievances it handled (handler organization),
  filed in the period in the community, with the same definitions as the grievances
  app's KPIs (grievances/selectors/e_kpis.py: a clock with a verdict met by its due
  time; resolved at least once and reopened at least once);
- **complaints**: those grievances, and their count per 1,000 households served;
- **collection rate**: paid ÷ billed of the bills of its contracts for months inside the
  period.

`scorecards_compute_all` computes every provider at once with one grouped query per
figure group (households, answers, grievances, clocks, bills), whatever the number of
providers: the benchmark compares it with the same aggregates in hand-written SQL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from community.models import Community, Estate, Household, Membership, Organization
from grievances.models import Grievance, SlaClock
from grievances.selectors.e_kpis import DONE, _bounds, _cohort_q
from property_mgmt.models import BlacklistEntry, FeeBill, ServiceContract, SurveyResponse
from property_mgmt.selectors.surveys import (
    ANSWERED_STATUSES,
    TWO_PLACES,
    average,
    is_community_staff,
    rate,
)

State = SlaClock.State


@dataclass(frozen=True)
class ScorecardFigures:
    """A provider's figures for a period; rates are fractions (None: nothing to judge)."""

    provider_id: int
    provider_name: str
    households: int
    satisfaction: Decimal | None
    survey_answers: int
    on_time_rate: Decimal | None
    reopen_rate: Decimal | None
    complaints: int
    complaints_per_1000: Decimal | None
    collection_rate: Decimal | None
    billed: Decimal
    paid: Decimal


def _providers_estates(
    community_id: int, start: dt.date, end: dt.date, provider_id: int | None
) -> dict[int, set[int]]:
    """provider id → the estates of the community it serves in the period (two queries)."""
    served: dict[int, set[int]] = defaultdict(set)
    estates = Estate.objects.filter(community_id=community_id, property_company__isnull=False)
    contracts = ServiceContract.objects.filter(
        estate__community_id=community_id, starts_on__lte=end, ends_on__gt=start
    )
    if provider_id is not None:
        estates = estates.filter(property_company_id=provider_id)
        contracts = contracts.filter(provider_id=provider_id)
    for estate_id, org_id in estates.values_list("pk", "property_company_id"):
        served[org_id].add(estate_id)
    for estate_id, org_id in contracts.values_list("estate_id", "provider_id"):
        served[org_id].add(estate_id)
    return served


def _compute(
    *,
    community: Community,
    period_start: dt.date,
    period_end: dt.date,
    now: dt.datetime | None,
    provider_id: int | None,
) -> list[ScorecardFigures]:
    now = now or timezone.now()
    served = _providers_estates(community.pk, period_start, period_end, provider_id)
    if provider_id is not None:
        served.setdefault(provider_id, set())
    providers = sorted(served)
    if not providers:
        return []

    all_estates = sorted(set().union(*served.values()))
    per_estate: dict[int, int] = dict(
        Household.objects.filter(unit__building__estate_id__in=all_estates)
        .values_list("unit__building__estate_id")
        .annotate(n=Count("pk"))
        .order_by()
    )

    answers = {
        row["survey__provider_id"]: row
        for row in SurveyResponse.objects.filter(
            survey__community=community,
            survey__provider_id__in=providers,
            survey__status__in=ANSWERED_STATUSES,
            survey__period_start__gte=period_start,
            survey__period_end__lte=period_end,
        )
        .values("survey__provider_id")
        .annotate(n=Count("pk"), total=Sum("overall"))
        .order_by()
    }

    # The grievances' cohort and verdicts as in grievances.selectors.e_kpis (reused, not
    # copied, so the scorecard and the KPI page never disagree on what "on time" means).
    low, high = _bounds(period_start, period_end)
    cohort = _cohort_q("", [community.pk], low, high) & Q(handler_organization_id__in=providers)
    grievances = {
        row["handler_organization_id"]: row
        for row in Grievance.objects.filter(cohort)
        .values("handler_organization_id")
        .annotate(
            filed=Count("pk"),
            reopened=Count("pk", filter=Q(reopen_count__gt=0)),
            resolved_once=Count("pk", filter=Q(reopen_count__gt=0) | Q(status__in=DONE)),
        )
        .order_by()
    }
    on_time = Q(state=State.STOPPED, met_at__lte=F("due_at"))
    late_live = Q(state=State.RUNNING, due_at__lt=now) | Q(
        state=State.PAUSED, due_at__lt=F("paused_at")
    )
    clocks = {
        row["grievance__handler_organization_id"]: row
        for row in SlaClock.objects.filter(
            _cohort_q("grievance__", [community.pk], low, high),
            grievance__handler_organization_id__in=providers,
        )
        .values("grievance__handler_organization_id")
        .annotate(
            judged=Count("pk", filter=Q(state=State.STOPPED) | late_live),
            met=Count("pk", filter=on_time),
        )
        .order_by()
    }

    bills = {
        row["contract__provider_id"]: row
        for row in FeeBill.objects.filter(
            estate__community=community,
            contract__provider_id__in=providers,
            period__gte=period_start,
            period__lte=period_end,
        )
        .values("contract__provider_id")
        .annotate(billed=Sum("amount"), paid=Sum("paid_amount"))
        .order_by()
    }
    names = dict(Organization.objects.filter(pk__in=providers).values_list("pk", "name"))

    figures = []
    for org_id in providers:
        households = sum(per_estate.get(e, 0) for e in served[org_id])
        answer = answers.get(org_id, {"n": 0, "total": 0})
        grievance = grievances.get(org_id, {"filed": 0, "reopened": 0, "resolved_once": 0})
        clock = clocks.get(org_id, {"judged": 0, "met": 0})
        bill = bills.get(org_id, {"billed": None, "paid": None})
        complaints = grievance["filed"]
        figures.append(
            ScorecardFigures(
                provider_id=org_id,
                provider_name=names.get(org_id, ""),
                households=households,
                satisfaction=average(answer["total"], answer["n"]),
                survey_answers=answer["n"],
                on_time_rate=rate(clock["met"], clock["judged"]),
                reopen_rate=rate(grievance["reopened"], grievance["resolved_once"]),
                complaints=complaints,
                complaints_per_1000=(
                    (Decimal(complaints) * 1000 / households).quantize(TWO_PLACES, ROUND_HALF_UP)
                    if households
                    else None
                ),
                collection_rate=rate(bill["paid"], bill["billed"]),
                billed=bill["billed"] or Decimal("0"),
                paid=bill["paid"] or Decimal("0"),
            )
        )
    return figures


def scorecard_compute(
    *,
    community: Community,
    provider: Organization,
    period_start: dt.date,
    period_end: dt.date,
    now: dt.datetime | None = None,
) -> ScorecardFigures:
    """One provider's figures for the period in the community (`now` judges live clocks)."""
    return _compute(
        community=community,
        period_start=period_start,
        period_end=period_end,
        now=now,
        provider_id=provider.pk,
    )[0]


def scorecards_compute_all(
    *,
    community: Community,
    period_start: dt.date,
    period_end: dt.date,
    now: dt.datetime | None = None,
) -> list[ScorecardFigures]:
    """The figures of every provider serving the community in the period, by name."""
    figures = _compute(
        community=community,
        period_start=period_start,
        period_end=period_end,
        now=now,
        provider_id=None,
    )
    return sorted(figures, key=lambda f: (f.provider_name, f.provider_id))


# --- the public black list ------------------------------------------------------------


@dataclass(frozen=True)
class BlacklistBoardRow:
    """A line of the public board: who, why, since when, and what the company answered."""

    entry_id: int
    provider_name: str
    reasons: list[str]
    listed_at: dt.datetime
    response: str
    responded_at: dt.datetime | None


def public_blacklist(*, community: Community) -> list[BlacklistBoardRow]:
    """The providers on the community's black list (confirmed entries), newest first."""
    entries = (
        BlacklistEntry.objects.filter(community=community, status=BlacklistEntry.Status.LISTED)
        .select_related("provider")
        .order_by("-listed_at", "-pk")
    )
    return [
        BlacklistBoardRow(
            entry_id=entry.pk,
            provider_name=entry.provider.name,
            reasons=[line for line in entry.reasons.splitlines() if line.strip()],
            listed_at=entry.listed_at or entry.proposed_at,
            response=entry.response,
            responded_at=entry.responded_at,
        )
        for entry in entries
    ]


def blacklist_entries(*, user: Any, community: Community) -> list[BlacklistEntry]:
    """Every entry of the community's black list (all statuses) for its staff, or the
    entries of their own company for property staff; nothing for anyone else."""
    qs = BlacklistEntry.objects.filter(community=community).select_related("provider")
    if not is_community_staff(user, community.pk):
        if user is None or not user.is_authenticated:
            return []
        qs = qs.filter(
            provider_id__in=Membership.objects.filter(
                user_id=user.pk, is_active=True, role=Membership.Role.PROPERTY_STAFF
            ).values("organization_id")
        )
    return list(qs.order_by("-proposed_at", "-pk"))
