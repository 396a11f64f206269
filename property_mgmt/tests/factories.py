"""Factories shared by the property_mgmt tests: providers and contracts (each area's own
factories live next to its tests)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from community.models import Organization
from community.tests.factories import EstateFactory, OrganizationFactory
from property_mgmt.models import ProviderProfile, ServiceContract


class ProviderProfileFactory(DjangoModelFactory):
    class Meta:
        model = ProviderProfile

    organization = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.PROPERTY_COMPANY)
    kind = ProviderProfile.Kind.COMPANY
    hotline = "0571-88886666"


class ServiceContractFactory(DjangoModelFactory):
    """A year's contract at 1.50 RMB per m² per month, billed normally."""

    class Meta:
        model = ServiceContract

    provider = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.PROPERTY_COMPANY)
    estate = factory.SubFactory(EstateFactory)
    starts_on = dt.date(2026, 1, 1)
    ends_on = dt.date(2027, 1, 1)
    fee_basis = ServiceContract.FeeBasis.PER_M2
    fee_standard = Decimal("1.50")
    billing_mode = ServiceContract.BillingMode.NORMAL
    due_days = 30
    promises = "1715"
