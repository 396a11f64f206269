"""Writes to the registry: residents, addresses, roles. Every write records who acted."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.phone import normalize_phone
from community.models import (
    Building,
    Household,
    Membership,
    Resident,
    ResidentTag,
    Unit,
)
from community.privacy import (
    encrypt_id_number,
    hash_id_number,
    mask_id_number,
    normalize_id_number,
    validate_id_number,
)

logger = logging.getLogger(__name__)

_PHONE_OK = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}\d{7,8})$")


def clean_resident_phone(raw: str) -> str:
    """A mobile number, or a landline with its area code ('010-6512 3456' -> '01065123456')."""
    phone = normalize_phone(raw)
    if phone and not _PHONE_OK.match(phone):
        raise ValidationError({"phone": _("Enter a mobile number or a landline with area code.")})
    return phone


def id_number_fields(raw: str) -> dict[str, Any]:
    """The stored columns for an ID number: ciphertext, lookup hash, masked display."""
    if not raw:
        return {"id_number_ciphertext": "", "id_number_hash": None, "id_number_masked": ""}
    value = normalize_id_number(raw)
    try:
        validate_id_number(value)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from None
    return {
        "id_number_ciphertext": encrypt_id_number(value),
        "id_number_hash": hash_id_number(value),
        "id_number_masked": mask_id_number(value),
    }


def check_id_number_free(fields: dict[str, Any], *, exclude_pk: int | None) -> None:
    """Refuse an ID number that another resident already has (compared by hash)."""
    digest = fields.get("id_number_hash")
    if not digest:
        return
    clash = Resident.objects.filter(id_number_hash=digest)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"id_number": _("A resident with this ID number already exists.")})


@transaction.atomic(savepoint=False)
def resident_save(
    *,
    resident: Resident | None,
    actor: Any,
    household: Household,
    name: str,
    id_number: str | None = None,
    phone: str = "",
    tags: Iterable[ResidentTag] | None = None,
    change_reason: str | None = None,
    **fields: Any,
) -> Resident:
    """Create or update a resident. `id_number=None` keeps the stored one; '' clears it."""
    if resident is None:
        resident = Resident()
    resident.household = household
    resident.name = name.strip()
    resident.phone = clean_resident_phone(phone)
    for key, value in fields.items():
        setattr(resident, key, value)
    if id_number is not None:
        id_fields = id_number_fields(id_number)
        check_id_number_free(id_fields, exclude_pk=resident.pk)
        for key, value in id_fields.items():
            setattr(resident, key, value)
    if resident.status == Resident.Status.MOVED_OUT and not resident.moved_out_on:
        resident.moved_out_on = dt.date.today()
    resident.full_clean(exclude=["id_number_hash", "user"])
    resident._history_user = actor  # type: ignore[attr-defined]
    if change_reason:
        resident._change_reason = change_reason  # type: ignore[attr-defined]
    resident.save()
    if tags is not None:
        resident.tags.set(tags)
    return resident


def resident_create(*, actor: Any, household: Household, name: str, **fields: Any) -> Resident:
    """Register a resident in a household (登记)."""
    with transaction.atomic(durable=True):
        return resident_save(resident=None, actor=actor, household=household, name=name, **fields)


def resident_update(*, resident: Resident, actor: Any, **fields: Any) -> Resident:
    """Change a resident's record; unchanged fields may be omitted."""
    with transaction.atomic(durable=True):
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        fields.setdefault("household", locked.household)
        fields.setdefault("name", locked.name)
        fields.setdefault("phone", locked.phone)
        return resident_save(resident=locked, actor=actor, **fields)


def resident_move_out(*, resident: Resident, actor: Any, on: dt.date) -> Resident:
    """Record that a resident moved out (迁出); the record stays for history."""
    return resident_update(
        resident=resident, actor=actor, status=Resident.Status.MOVED_OUT, moved_out_on=on
    )


def membership_grant(*, actor: Any, user: Any, role: str, **area: Any) -> Membership:
    """Give `user` a role in an area or organization (e.g. grid worker of 第一网格)."""
    with transaction.atomic(durable=True):
        membership = Membership(user=user, role=role, **area)
        membership.full_clean()
        membership._history_user = actor  # type: ignore[attr-defined]
        membership.save()
        return membership


# ---------------------------------------------------------------------------------------
# Addresses created by an import (a building must exist; its units and rooms may not yet).


@transaction.atomic(savepoint=False)
def unit_create(*, actor: Any, building: Building, number: str) -> Unit:
    """Add a unit (单元) to a building."""
    unit = Unit(building=building, number=number.strip())
    unit.full_clean()
    unit._history_user = actor  # type: ignore[attr-defined]
    unit.save()
    return unit


@transaction.atomic(savepoint=False)
def household_create(*, actor: Any, unit: Unit, room: str) -> Household:
    """Add a household (户) to a unit, by its room number."""
    household = Household(unit=unit, room=room.strip())
    household.full_clean()
    household._history_user = actor  # type: ignore[attr-defined]
    household.save()
    return household
