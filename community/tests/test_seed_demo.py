from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from community.management.commands.seed_registry_demo import DEMO_PASSWORD, LOGINS
from community.models import Grid, Membership, Resident
from community.privacy import decrypt_id_number, validate_id_number

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_street_and_is_idempotent() -> None:
    out = StringIO()
    call_command("seed_registry_demo", stdout=out)
    residents = Resident.objects.count()
    assert 1800 <= residents <= 2400
    assert Grid.objects.filter(community__code="DEMO-QS").count() == 3
    for phone, _name, role in LOGINS:
        user = User.objects.get(phone=phone)
        assert user.check_password(DEMO_PASSWORD)
        assert phone in out.getvalue()
        if role not in ("superuser", "resident"):
            assert Membership.objects.filter(user=user, role=role).exists()
    assert Resident.objects.filter(user__phone="13800000009").exists()
    sample = Resident.objects.order_by("?").first()
    validate_id_number(decrypt_id_number(sample.id_number_ciphertext))
    assert sample.id_number_masked.startswith("99")  # made-up region: never a real person

    call_command("seed_registry_demo", stdout=StringIO())
    assert Resident.objects.count() == residents
    assert Membership.objects.count() == len(LOGINS) - 2
