from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from community import services
from community.models import Membership, Resident
from community.tests.factories import UserFactory, valid_id_number

pytestmark = pytest.mark.django_db


def test_create_records_who_registered_the_resident(world: Any, staff: Any) -> None:
    resident = services.resident_create(
        actor=staff,
        household=world.household_a,
        name=" 孙丽 ",
        phone="139-1111-2222",
        id_number=valid_id_number(31),
    )
    assert resident.name == "孙丽"
    assert resident.phone == "13911112222"
    assert resident.history.get().history_user == staff


def test_update_keeps_id_number_unless_given(world: Any, staff: Any) -> None:
    before = world.resident_a.id_number_hash
    services.resident_update(resident=world.resident_a, actor=staff, note="新装门禁")
    world.resident_a.refresh_from_db()
    assert world.resident_a.id_number_hash == before
    assert world.resident_a.history.first().history_user == staff


def test_landline_is_accepted_and_garbage_phone_refused(world: Any, staff: Any) -> None:
    services.resident_update(resident=world.resident_a, actor=staff, phone="010-6512 3456")
    world.resident_a.refresh_from_db()
    assert world.resident_a.phone == "01065123456"
    with pytest.raises(ValidationError) as exc:
        services.resident_update(resident=world.resident_a, actor=staff, phone="12345")
    assert "phone" in exc.value.message_dict


def test_move_out_keeps_the_record_with_a_date(world: Any, staff: Any) -> None:
    services.resident_move_out(resident=world.resident_a, actor=staff, on=dt.date(2026, 10, 1))
    world.resident_a.refresh_from_db()
    assert world.resident_a.status == Resident.Status.MOVED_OUT
    assert world.resident_a.moved_out_on == dt.date(2026, 10, 1)


def test_database_refuses_moved_out_without_a_date(world: Any) -> None:
    with pytest.raises(IntegrityError):
        Resident.objects.filter(pk=world.resident_a.pk).update(status="moved_out")


def test_database_refuses_duplicate_id_hash(world: Any) -> None:
    with pytest.raises(IntegrityError):
        Resident.objects.filter(pk=world.resident_b.pk).update(
            id_number_hash=world.resident_a.id_number_hash
        )


def test_membership_needs_its_area(world: Any, staff: Any) -> None:
    with pytest.raises(ValidationError):
        services.membership_grant(actor=staff, user=UserFactory(), role="grid_worker")
    membership = services.membership_grant(
        actor=staff, user=UserFactory(), role="grid_worker", grid=world.grid_b
    )
    assert membership.history.get().history_user == staff


def test_database_refuses_grid_worker_without_grid(world: Any) -> None:
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=UserFactory(), role="grid_worker")
