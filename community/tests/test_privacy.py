from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from community.models import Resident
from community.privacy import (
    MaskPersonalDataFilter,
    decrypt_id_number,
    encrypt_id_number,
    gender_from_id,
    hash_id_number,
    id_check_digit,
    mask_id_number,
    mask_text,
    normalize_id_number,
    validate_id_number,
)
from community.services import resident_create
from community.tests.factories import HouseholdFactory, valid_id_number

# A published example number (GB 11643 sample): 11010519491231002X.
SAMPLE = "11010519491231002X"


def test_known_sample_passes_check_digit() -> None:
    validate_id_number(SAMPLE)
    assert id_check_digit(SAMPLE[:17]) == "X"


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("110105194912310021", "id_checksum"),  # last digit changed
        ("11010519491331002X", "id_date"),  # month 13
        ("11010521491231002X", "id_date"),  # born in the future
        ("1101051949123100", "id_shape"),  # too short
        ("11010519491231002Y", "id_shape"),
    ],
)
def test_invalid_id_numbers_are_rejected_with_a_reason(bad: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_id_number(bad)
    assert exc.value.code == code


def test_lower_case_x_and_spaces_are_normalised() -> None:
    assert normalize_id_number("110105 19491231 002x") == SAMPLE


def test_masking_keeps_region_and_last_four_only() -> None:
    assert mask_id_number("110105199001010123") == "110105********0123"
    assert gender_from_id(SAMPLE) == "female"


def test_encryption_round_trips_and_is_not_plaintext() -> None:
    token = encrypt_id_number(SAMPLE)
    assert SAMPLE not in token
    assert decrypt_id_number(token) == SAMPLE
    assert encrypt_id_number(SAMPLE) != token  # random IV: equal numbers look different


def test_hash_is_keyed_and_stable(settings: Any) -> None:
    first = hash_id_number(SAMPLE)
    assert first == hash_id_number(SAMPLE.lower())
    settings.LINLI_HASH_KEY = "another-key"
    assert hash_id_number(SAMPLE) != first


def test_mask_text_hides_numbers_in_free_text() -> None:
    text = f"resident {SAMPLE} phone 13800138000 called"
    assert mask_text(text) == "resident 110105********002X phone 138****8000 called"


def test_log_records_are_masked(caplog: Any) -> None:
    logger = logging.getLogger("linli.test")
    logger.addFilter(MaskPersonalDataFilter())
    with caplog.at_level(logging.INFO, logger="linli.test"):
        logger.info("lookup of %s by %s", SAMPLE, "13800138000")
    assert SAMPLE not in caplog.text
    assert "13800138000" not in caplog.text
    assert "110105********002X" in caplog.text


@pytest.mark.django_db
def test_stored_resident_has_no_plaintext_id_anywhere() -> None:
    resident = resident_create(
        actor=None, household=HouseholdFactory(), name="张三", id_number=SAMPLE
    )
    row = Resident.objects.filter(pk=resident.pk).values().get()
    assert all(SAMPLE not in str(value) for value in row.values())
    history = resident.history.values().first()
    assert all(SAMPLE not in str(value) for value in history.values())
    assert row["id_number_masked"] == "110105********002X"
    assert decrypt_id_number(row["id_number_ciphertext"]) == SAMPLE


@pytest.mark.django_db
def test_the_same_id_number_cannot_be_registered_twice() -> None:
    resident_create(actor=None, household=HouseholdFactory(), name="张三", id_number=SAMPLE)
    with pytest.raises(ValidationError) as exc:
        resident_create(
            actor=None, household=HouseholdFactory(), name="张三", id_number=SAMPLE.lower()
        )
    assert "id_number" in exc.value.message_dict


@pytest.mark.django_db
def test_bad_id_number_is_not_saved() -> None:
    household = HouseholdFactory()
    bad = valid_id_number(7)[:-1] + ("0" if valid_id_number(7)[-1] != "0" else "1")
    with pytest.raises(ValidationError):
        resident_create(actor=None, household=household, name="李四", id_number=bad)
    assert not Resident.objects.exists()
