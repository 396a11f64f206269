"""The registry API leaks nothing that rebuilds an ID or phone number, and never 500s."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from community.privacy import decrypt_id_number
from community.tests.factories import ResidentFactory, valid_id_number

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/residents/lookup/"
HUGE = "99999999999999999999"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def names(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


# The birth date next to a masked ID number is the whole number ------------------------


def test_api_never_shows_the_masked_id_with_the_full_birth_date(world: Any, staff: Any) -> None:
    resident = world.resident_a
    whole = decrypt_id_number(resident.id_number_ciphertext)
    client = api(staff)
    detail = client.get(f"/api/v1/residents/{resident.pk}/")
    household = client.get(f"/api/v1/households/{resident.household_id}/")
    listing = client.get("/api/v1/residents/")

    assert detail.json()["id_number"] == resident.id_number_masked
    assert detail.json()["birth_year"] == 1980
    assert "birth_date" not in detail.json()
    for response in (detail, household, listing):
        text = response.content.decode()
        assert "1980-05-17" not in text
        assert whole[6:14] not in text


# Phone search: whole number or last 4, nothing in between -----------------------------


@pytest.mark.parametrize("length", [5, 6, 7, 8, 9, 10])
def test_a_prefix_of_a_phone_finds_nobody(world: Any, staff: Any, length: int) -> None:
    phone = world.resident_a.phone
    assert names(api(staff).get("/api/v1/residents/", {"search": phone[:length]})) == set()


def test_inner_digits_of_a_phone_find_nobody(world: Any, staff: Any) -> None:
    phone = world.resident_a.phone
    assert names(api(staff).get("/api/v1/residents/", {"search": phone[3:8]})) == set()
    assert names(api(staff).get("/api/v1/residents/", {"search": phone[2:6]})) == set()


def test_last_four_digits_or_the_whole_phone_find_the_resident(world: Any, staff: Any) -> None:
    ResidentFactory(household=world.household_a, name="座机", phone="01065123456")
    phone = world.resident_a.phone
    client = api(staff)
    assert world.resident_a.name in names(client.get("/api/v1/residents/", {"search": phone[-4:]}))
    assert names(client.get("/api/v1/residents/", {"search": phone})) == {world.resident_a.name}
    spaced = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
    assert names(client.get("/api/v1/residents/", {"search": spaced})) == {world.resident_a.name}
    assert names(client.get("/api/v1/residents/", {"search": "010-6512 3456"})) == {"座机"}


# Whole ID numbers stay out of URLs ----------------------------------------------------


def test_an_id_number_in_the_search_parameter_is_refused(world: Any, staff: Any) -> None:
    number = decrypt_id_number(world.resident_a.id_number_ciphertext)
    response = api(staff).get("/api/v1/residents/", {"search": number})
    assert response.status_code == 400
    assert LOOKUP in json.dumps(response.json(), ensure_ascii=False)
    assert number not in response.content.decode()


def test_lookup_by_id_number_in_the_body_finds_the_resident(world: Any, staff: Any) -> None:
    number = valid_id_number(4242)
    ResidentFactory(household=world.household_b, name="赵敏", id_number=number)
    response = api(staff).post(LOOKUP, {"id_number": f" {number[:-1]}{number[-1].lower()} "})
    assert names(response) == {"赵敏"}
    row = response.json()["results"][0]
    assert row["id_number"] == f"{number[:6]}********{number[-4:]}"
    assert number not in response.content.decode()


def test_lookup_is_scoped(world: Any, staff: Any, outsider: Any) -> None:
    number = decrypt_id_number(world.other_resident.id_number_ciphertext)
    assert names(api(staff).post(LOOKUP, {"id_number": number})) == set()
    assert names(api(outsider).post(LOOKUP, {"id_number": number})) == set()


def test_lookup_refuses_what_is_not_an_id_number(world: Any, staff: Any) -> None:
    assert api(staff).post(LOOKUP, {"id_number": "12345"}).status_code == 400
    assert api(staff).post(LOOKUP, {}).status_code == 400
    assert api(staff).get(LOOKUP).status_code == 405


def test_lookup_needs_a_login(world: Any) -> None:
    assert APIClient().post(LOOKUP, {"id_number": valid_id_number(1)}).status_code in (401, 403)


# Huge integers are a 404 or a 400, never a 500 ----------------------------------------


def test_huge_resident_id_is_not_found(world: Any, staff: Any) -> None:
    client = api(staff)
    assert client.get(f"/api/v1/residents/{HUGE}/").status_code == 404
    assert client.get(f"/api/v1/residents/{2**63}/").status_code == 404
    assert client.get(f"/api/v1/residents/{2**63 - 1}/").status_code == 404
    assert client.get("/api/v1/residents/0/").status_code == 404


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/residents/", "estate"),
        ("/api/v1/residents/", "building"),
        ("/api/v1/residents/", "grid"),
        ("/api/v1/buildings/", "estate"),
        ("/api/v1/households/", "building"),
    ],
)
@pytest.mark.parametrize("value", [HUGE, "0", "-1"])
def test_out_of_range_filter_ids_are_a_bad_request(
    world: Any, staff: Any, url: str, param: str, value: str
) -> None:
    assert api(staff).get(url, {param: value}).status_code == 400
