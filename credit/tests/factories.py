from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from community.tests.factories import StreetFactory
from credit.models import ScoringRule


class ScoringRuleFactory(DjangoModelFactory):
    class Meta:
        model = ScoringRule

    street = factory.SubFactory(StreetFactory)
    code = factory.Sequence(lambda n: f"rule-{n}")
    name = factory.Sequence(lambda n: f"规则{n}")
    category = ScoringRule.Category.VOLUNTEERING
    points = 2
    unit = ScoringRule.Unit.HOUR
    valid_from = dt.date(2026, 1, 1)
