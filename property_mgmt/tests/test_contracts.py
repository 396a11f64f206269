"""Contracts and provider profiles: who may register them, overlaps, serve-first terms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from community.models import Organization
from community.tests.factories import OrganizationFactory
from property_mgmt.models import ProviderProfile, ServiceContract
from property_mgmt.services.contracts import contract_create, contract_for, provider_profile_save
from property_mgmt.tests.factories_fees import NOW
from tests.concurrency import together

pytestmark = pytest.mark.django_db

Basis = ServiceContract.FeeBasis
Mode = ServiceContract.BillingMode


def _create(world: Any, actor: Any, **kwargs: Any) -> ServiceContract:
    terms: dict[str, Any] = {
        "actor": actor,
        "provider": world.property_company,
        "estate": world.estate,
        "starts_on": dt.date(2026, 1, 1),
        "ends_on": dt.date(2027, 1, 1),
        "fee_basis": Basis.PER_M2,
        "fee_standard": Decimal("1.50"),
        "billing_mode": Mode.NORMAL,
        "now": NOW,
    }
    terms.update(kwargs)
    return contract_create(**terms)


def test_staff_registers_a_contract_recorded_in_history(world: Any, staff: Any) -> None:
    contract = _create(world, staff, promises=" 1715 ")
    assert contract.promises == "1715"
    assert contract.history.get().history_user == staff
    assert contract_for(estate=world.estate, on=dt.date(2026, 6, 30)) == contract
    assert contract_for(estate=world.estate, on=dt.date(2027, 1, 1)) is None


@pytest.mark.parametrize("persona", ["property_staff", "outsider", "resident", "grid_worker"])
def test_only_the_office_registers_contracts(world: Any, persona: str, request: Any) -> None:
    with pytest.raises(PermissionDenied):
        _create(world, request.getfixturevalue(persona))
    assert not ServiceContract.objects.exists()


def test_staff_of_another_community_cannot_register_a_contract_here(world: Any, staff: Any) -> None:
    with pytest.raises(PermissionDenied):
        _create(world, staff, estate=world.other_estate)


def test_an_overlapping_contract_is_refused_but_the_next_year_is_not(
    world: Any, staff: Any
) -> None:
    _create(world, staff)
    with pytest.raises(ValidationError) as exc:
        _create(world, staff, starts_on=dt.date(2026, 12, 1), ends_on=dt.date(2027, 6, 1))
    assert exc.value.code == "overlap"
    following = _create(world, staff, starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2028, 1, 1))
    assert contract_for(estate=world.estate, on=dt.date(2027, 1, 1)) == following


def test_serve_first_needs_a_threshold_between_one_and_five(world: Any, staff: Any) -> None:
    with pytest.raises(ValidationError):
        _create(world, staff, billing_mode=Mode.SERVE_FIRST)
    with pytest.raises(ValidationError):
        _create(world, staff, billing_mode=Mode.SERVE_FIRST, serve_first_threshold=Decimal("6"))
    contract = _create(
        world, staff, billing_mode=Mode.SERVE_FIRST, serve_first_threshold=Decimal("4.00")
    )
    assert contract.serve_first_threshold == Decimal("4.00")


def test_the_provider_must_be_a_property_company(world: Any, staff: Any) -> None:
    partner = OrganizationFactory(kind=Organization.Kind.PARTNER_UNIT)
    with pytest.raises(ValidationError):
        _create(world, staff, provider=partner)


def test_a_red_property_must_name_its_party_branch(world: Any, property_staff: Any) -> None:
    company = world.property_company
    with pytest.raises(ValidationError):
        provider_profile_save(actor=property_staff, organization=company, is_red_property=True)
    profile = provider_profile_save(
        actor=property_staff,
        organization=company,
        is_red_property=True,
        party_branch="物业党支部",
        hotline="0571-88886666",
    )
    assert profile.is_red_property and profile.party_branch == "物业党支部"
    # Saving again updates the same profile.
    provider_profile_save(actor=property_staff, organization=company, hotline="12345")
    assert ProviderProfile.objects.get(organization=company).hotline == "12345"


def test_the_database_refuses_a_red_property_without_a_branch(world: Any) -> None:
    with pytest.raises(IntegrityError):
        ProviderProfile.objects.create(organization=world.property_company, is_red_property=True)


def test_an_outsider_cannot_edit_a_provider_profile(world: Any, outsider: Any) -> None:
    with pytest.raises(PermissionDenied):
        provider_profile_save(actor=outsider, organization=world.property_company)


def test_staff_of_the_served_community_may_edit_the_profile(world: Any, staff: Any) -> None:
    profile = provider_profile_save(
        actor=staff, organization=world.property_company, contacts="张经理 13800000000"
    )
    assert profile.contacts == "张经理 13800000000"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_offices_registering_overlapping_contracts_at_once_get_one(
    require_postgres: None, world: Any, staff: Any
) -> None:
    starts = [dt.date(2026, 1, 1), dt.date(2026, 6, 1)]
    results, errors = together(
        2,
        lambda i: _create(
            world, staff, starts_on=starts[i], ends_on=starts[i] + dt.timedelta(days=365)
        ),
    )
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert ServiceContract.objects.filter(estate=world.estate).count() == 1
