"""Writes of providers and their service contracts (物业服务合同).

A contract's period is half-open: it covers `starts_on` up to the day before `ends_on`
(a year's contract runs 2026-01-01 → 2027-01-01), so consecutive contracts share a
boundary day without overlapping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from community.models import Estate, Membership, Organization
from community.scoping import is_community_office
from property_mgmt.models import ProviderProfile, ServiceContract

Role = Membership.Role
OFFICE_ROLES = (Role.COMMUNITY_ADMIN, Role.COMMUNITY_STAFF)


def is_office(user: Any, community_id: int) -> bool:
    """Whether `user` is community staff or admin of the community (superusers: anywhere)."""
    return is_community_office(user, community_id)


def is_provider_staff(user: Any, provider_id: int) -> bool:
    """Whether `user` is active property staff of the provider."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return Membership.objects.filter(
        user=user, is_active=True, role=Role.PROPERTY_STAFF, organization_id=provider_id
    ).exists()


def _check_terms(
    *,
    provider: Organization,
    starts_on: dt.date,
    ends_on: dt.date,
    fee_basis: str,
    fee_standard: Decimal,
    billing_mode: str,
    serve_first_threshold: Decimal | None,
) -> None:
    if provider.kind != Organization.Kind.PROPERTY_COMPANY:
        raise ValidationError(_("The provider must be a property company."), code="provider")
    if ends_on <= starts_on:
        raise ValidationError(_("The contract must end after it starts."), code="period")
    if fee_basis not in ServiceContract.FeeBasis.values:
        raise ValidationError(_("Choose how the fee is charged."), code="fee_basis")
    if Decimal(fee_standard) < 0:
        raise ValidationError(_("The fee standard cannot be negative."), code="fee_standard")
    if billing_mode not in ServiceContract.BillingMode.values:
        raise ValidationError(_("Choose a billing mode."), code="billing_mode")
    if billing_mode == ServiceContract.BillingMode.SERVE_FIRST and (
        serve_first_threshold is None or not 1 <= Decimal(serve_first_threshold) <= 5
    ):
        raise ValidationError(
            _("Serve-first billing needs a satisfaction threshold between 1 and 5."),
            code="threshold",
        )


def contract_create(
    *,
    actor: Any,
    provider: Organization,
    estate: Estate,
    starts_on: dt.date,
    ends_on: dt.date,
    fee_basis: str,
    fee_standard: Decimal,
    billing_mode: str,
    serve_first_threshold: Decimal | None = None,
    due_days: int = 30,
    scope_categories: Iterable[Any] = (),
    promises: str = "",
    now: dt.datetime,
) -> ServiceContract:
    """Sign a provider's service contract for an estate; one contract per estate at a time."""
    if not is_office(actor, estate.community_id):
        raise PermissionDenied(_("Only the community office can register a contract."))
    _check_terms(
        provider=provider,
        starts_on=starts_on,
        ends_on=ends_on,
        fee_basis=fee_basis,
        fee_standard=fee_standard,
        billing_mode=billing_mode,
        serve_first_threshold=serve_first_threshold,
    )
    if due_days < 0:
        raise ValidationError(_("The days to pay cannot be negative."), code="due_days")
    with transaction.atomic(durable=True):
        # The estate row always exists: locking it serialises two offices registering a
        # contract for the same estate at once, so both cannot pass the overlap check.
        Estate.objects.select_for_update().filter(pk=estate.pk).get()
        overlapping = (
            ServiceContract.objects.filter(
                estate=estate, starts_on__lt=ends_on, ends_on__gt=starts_on
            )
            .order_by("starts_on")
            .first()
        )
        if overlapping is not None:
            raise ValidationError(
                _("The estate already has a contract from %(start)s to %(end)s.")
                % {"start": overlapping.starts_on, "end": overlapping.ends_on},
                code="overlap",
            )
        contract = ServiceContract(
            provider=provider,
            estate=estate,
            starts_on=starts_on,
            ends_on=ends_on,
            fee_basis=fee_basis,
            fee_standard=Decimal(fee_standard),
            billing_mode=billing_mode,
            serve_first_threshold=(
                Decimal(serve_first_threshold)
                if billing_mode == ServiceContract.BillingMode.SERVE_FIRST
                and serve_first_threshold is not None
                else None
            ),
            due_days=due_days,
            promises=promises.strip(),
        )
        contract._history_user = actor  # type: ignore[attr-defined]
        contract._history_date = now  # type: ignore[attr-defined]
        contract.save()
        categories = list(scope_categories)
        if categories:
            contract.scope_categories.set(categories)
    return contract


def contract_for(*, estate: Estate | int, on: dt.date) -> ServiceContract | None:
    """The estate's contract in force on a day, if any."""
    estate_id = estate if isinstance(estate, int) else estate.pk
    return (
        ServiceContract.objects.filter(estate_id=estate_id, starts_on__lte=on, ends_on__gt=on)
        .select_related("provider")
        .order_by("-starts_on")
        .first()
    )


def _may_edit_profile(user: Any, organization: Organization) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or is_provider_staff(user, organization.pk):
        return True
    # The office of any community whose estates the provider serves or contracts with.
    where = Q(community__estates__property_company=organization) | Q(
        community__estates__service_contracts__provider=organization
    )
    if organization.community_id is not None:
        where |= Q(community_id=organization.community_id)
    return Membership.objects.filter(
        where,
        user=user,
        is_active=True,
        role__in=OFFICE_ROLES,
    ).exists()


def provider_profile_save(
    *,
    actor: Any,
    organization: Organization,
    kind: str = ProviderProfile.Kind.COMPANY,
    is_red_property: bool = False,
    party_branch: str = "",
    hotline: str = "",
    contacts: str = "",
) -> ProviderProfile:
    """Create or update a provider's profile (red property, hotline, contacts)."""
    if organization.kind != Organization.Kind.PROPERTY_COMPANY:
        raise ValidationError(_("The provider must be a property company."), code="provider")
    if not _may_edit_profile(actor, organization):
        raise PermissionDenied(_("You may not change this provider's profile."))
    if kind not in ProviderProfile.Kind.values:
        raise ValidationError(_("Choose the kind of provider."), code="kind")
    party_branch = party_branch.strip()
    if is_red_property and not party_branch:
        raise ValidationError(_("A red property must name its party branch."), code="party_branch")
    fields = {
        "kind": kind,
        "is_red_property": is_red_property,
        "party_branch": party_branch,
        "hotline": hotline.strip(),
        "contacts": contacts.strip(),
    }
    with transaction.atomic(durable=True):
        profile = (
            ProviderProfile.objects.select_for_update().filter(organization=organization).first()
        )
        if profile is None:
            profile = ProviderProfile(organization=organization)
        for name, value in fields.items():
            setattr(profile, name, value)
        profile._history_user = actor  # type: ignore[attr-defined]
        profile.save()
    return profile
