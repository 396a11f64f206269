"""Factories and helpers of the fee tests: contracts of the world's estate, bills, survey
answers that decide a serve-first release, and the street's scoring standard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from community.models import Household
from credit.services import standard_install
from property_mgmt.models import FeeBill, ServiceContract, Survey, SurveyResponse
from property_mgmt.tests.factories import ServiceContractFactory

TZ = dt.timezone(dt.timedelta(hours=8))
#: 2026-03-05 10:00 in Shanghai: early in March, before March's bills fall due.
NOW = dt.datetime(2026, 3, 5, 10, 0, tzinfo=TZ)
MARCH = dt.date(2026, 3, 1)


def install_standard(world: Any) -> None:
    """The street's default standard, with the "fee-on-time" rule (+5)."""
    standard_install(street=world.street, valid_from=dt.date(2026, 1, 1))


def contract_of(world: Any, **kwargs: Any) -> ServiceContract:
    """A contract of the world's property company for the world's estate."""
    contract = ServiceContractFactory(
        provider=world.property_company, estate=world.estate, **kwargs
    )
    return cast(ServiceContract, contract)


class FeeBillFactory(DjangoModelFactory):
    """March's bill of 120.00, payable, due at the end of the month."""

    class Meta:
        model = FeeBill

    contract = factory.SubFactory(ServiceContractFactory)
    household = factory.SubFactory("community.tests.factories.HouseholdFactory")
    building = factory.LazyAttribute(lambda o: o.household.unit.building)
    estate = factory.LazyAttribute(lambda o: o.household.unit.building.estate)
    period = MARCH
    amount = Decimal("120.00")
    due_on = dt.date(2026, 3, 31)
    payable_from = NOW


def bill_for(contract: ServiceContract, household: Household, **kwargs: Any) -> FeeBill:
    return cast(FeeBill, FeeBillFactory(contract=contract, household=household, **kwargs))


def survey_answers(
    world: Any,
    *,
    provider: Any,
    building: Any,
    ratings: list[int],
    actor: Any,
    status: str = Survey.Status.OPEN,
    period_start: dt.date = dt.date(2026, 1, 1),
    period_end: dt.date = dt.date(2026, 3, 31),
) -> Survey:
    """A survey of `provider` over the period with one answer per rating in `building`
    (each from a household of its own)."""
    from community.tests.factories import HouseholdFactory, UnitFactory

    survey = Survey.objects.create(
        community=world.home,
        provider=provider,
        title="满意度测评",
        period_start=period_start,
        period_end=period_end,
        status=status,
        created_by=actor,
    )
    survey.estates.add(building.estate)
    unit = UnitFactory(building=building)
    for rating in ratings:
        SurveyResponse.objects.create(
            survey=survey,
            household=HouseholdFactory(unit=unit),
            building=building,
            estate=building.estate,
            channel=SurveyResponse.Channel.PORTAL,
            entered_by=actor,
            overall=rating,
            created_at=timezone.now(),
        )
    return survey
