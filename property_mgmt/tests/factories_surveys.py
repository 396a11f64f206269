"""Factories of the surveys, scorecards and black-list tests.

Rows made here skip the services: use them for data a test only reads. A test of a rule
(one answer per household, who may answer, the black-list rules) goes through the
services instead.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from community.models import Organization
from community.tests.factories import CommunityFactory, OrganizationFactory, UserFactory
from property_mgmt.models import BlacklistEntry, BlacklistRule, Survey, SurveyResponse

NOW = dt.datetime(2026, 4, 10, 2, 0, tzinfo=dt.UTC)  # Friday 10:00 in Shanghai
Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
Q2 = (dt.date(2026, 4, 1), dt.date(2026, 6, 30))


class SurveyFactory(DjangoModelFactory[Survey]):
    """An open survey of the first quarter of 2026 (add estates after creating it)."""

    class Meta:
        model = Survey

    community = factory.SubFactory(CommunityFactory)
    provider = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.PROPERTY_COMPANY)
    title = factory.Sequence(lambda n: f"2026年第一季度物业满意度测评{n}")
    period_start = Q1[0]
    period_end = Q1[1]
    status = Survey.Status.OPEN
    opened_at = NOW
    created_by = factory.SubFactory(UserFactory)


class SurveyResponseFactory(DjangoModelFactory[SurveyResponse]):
    """An answer given on the portal; pass survey and household, building and estate."""

    class Meta:
        model = SurveyResponse

    channel = SurveyResponse.Channel.PORTAL
    entered_by = factory.SubFactory(UserFactory)
    overall = 4
    created_at = NOW


class BlacklistRuleFactory(DjangoModelFactory[BlacklistRule]):
    """Satisfaction below 3.00 proposes the provider for the black list."""

    class Meta:
        model = BlacklistRule

    community = factory.SubFactory(CommunityFactory)
    metric = BlacklistRule.Metric.SATISFACTION
    comparison = BlacklistRule.Comparison.BELOW
    threshold = Decimal("3.00")
    is_active = True


class BlacklistEntryFactory(DjangoModelFactory[BlacklistEntry]):
    """A proposed entry (as a scorecard would leave it)."""

    class Meta:
        model = BlacklistEntry

    community = factory.SubFactory(CommunityFactory)
    provider = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.PROPERTY_COMPANY)
    status = BlacklistEntry.Status.PROPOSED
    reasons = "满意度 2.80，低于 3.00"
    proposed_at = NOW
