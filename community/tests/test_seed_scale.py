from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from simple_history.models import HistoricalChanges

from accounts.models import User
from community.management.commands.seed_scale import (
    BENCH_PASSWORD,
    BENCH_PHONE,
    COMMUNITY_CODE,
    estate_name,
)
from community.models import Household, Membership, Resident
from community.privacy import decrypt_id_number, hash_id_number, mask_id_number
from community.scoping import scope_filter

pytestmark = pytest.mark.django_db


def scale_residents() -> list[Resident]:
    return list(
        Resident.objects.filter(household__unit__building__estate__community__code=COMMUNITY_CODE)
    )


def test_seed_scale_creates_n_residents_with_real_encrypted_ids() -> None:
    out = StringIO()
    call_command("seed_scale", residents=250, stdout=out)

    residents = scale_residents()
    assert len(residents) == 250
    for resident in residents:
        number = decrypt_id_number(resident.id_number_ciphertext)
        assert resident.id_number_hash == hash_id_number(number)
        assert resident.id_number_masked == mask_id_number(number)
        assert number.startswith("99")  # a made-up region: never a real person
    assert len({r.id_number_hash for r in residents}) == 250
    households = Household.objects.filter(unit__building__estate__community__code=COMMUNITY_CODE)
    assert 2.0 <= 250 / households.count() <= 3.2  # ~2.5 residents per household
    assert "created" in out.getvalue()
    assert "250 residents" in out.getvalue()
    # Load data, not governance records: no history rows were written for it.
    assert not Resident.history.exists()
    assert issubclass(Resident.history.model, HistoricalChanges)


def test_seed_scale_is_idempotent_and_tops_up() -> None:
    call_command("seed_scale", residents=120, stdout=StringIO())
    first = {r.pk for r in scale_residents()}

    out = StringIO()
    call_command("seed_scale", residents=120, stdout=out)
    assert {r.pk for r in scale_residents()} == first
    assert "nothing to do" in out.getvalue()

    call_command("seed_scale", residents=100, stdout=StringIO())  # fewer: still nothing
    assert len(scale_residents()) == 120

    call_command("seed_scale", residents=200, stdout=StringIO())  # more: adds the difference
    assert len(scale_residents()) == 200
    assert first < {r.pk for r in scale_residents()}


def test_seed_scale_login_is_staff_of_the_scale_community_only() -> None:
    call_command("seed_scale", residents=30, stdout=StringIO())
    call_command("seed_registry_demo", stdout=StringIO())  # another street the login must not see
    user = User.objects.get(phone=BENCH_PHONE)
    assert user.check_password(BENCH_PASSWORD)
    assert Membership.objects.get(user=user).role == Membership.Role.COMMUNITY_STAFF
    visible = scope_filter(Resident.objects.all(), user)
    assert visible.count() == 30
    assert Resident.objects.count() > 30


def test_seed_scale_password_option_resets_the_login() -> None:
    call_command("seed_scale", residents=5, stdout=StringIO())
    call_command("seed_scale", residents=5, password="another-pass-2026", stdout=StringIO())
    assert User.objects.get(phone=BENCH_PHONE).check_password("another-pass-2026")


def test_estate_names_stay_unique_past_the_word_list() -> None:
    names = [estate_name(i) for i in range(250)]
    assert len(set(names)) == 250
