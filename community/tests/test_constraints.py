"""The database itself refuses residents that break the registry's rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from community.models import Resident

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "change",
    [
        {"status": "bogus"},
        {"gender": "unknown"},
        {"relation_to_head": "neighbour"},
        {"id_number_ciphertext": ""},  # a lookup hash without the number it stands for
        {"id_number_hash": None},  # a stored number no lookup can find
    ],
)
def test_database_refuses_a_resident_breaking_a_rule(world: Any, change: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.filter(pk=world.resident_a.pk).update(**change)


def test_database_accepts_a_resident_without_gender_or_id_number(world: Any) -> None:
    Resident.objects.filter(pk=world.resident_a.pk).update(
        gender="", id_number_ciphertext="", id_number_hash=None, id_number_masked=""
    )
    assert Resident.objects.get(pk=world.resident_a.pk).id_number_hash is None
