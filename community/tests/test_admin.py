from __future__ import annotations

from typing import Any

import pytest

from community.models import Resident
from community.tests.factories import ResidentFactory, valid_id_number

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/community/resident/"


def test_admin_is_in_chinese(client: Any, staff: Any) -> None:
    client.force_login(staff)
    body = client.get("/admin/").content.decode()
    assert "站点管理" in body or "社区管理后台" in body


def test_staff_search_by_id_number_through_hash(client: Any, world: Any, staff: Any) -> None:
    number = valid_id_number(777)
    ResidentFactory(household=world.household_b, name="赵敏", id_number=number)
    client.force_login(staff)
    response = client.post(f"{CHANGELIST}find-by-id/", {"id_number": number.lower()})
    assert response.status_code == 302
    assert number not in response["Location"]  # only the keyed hash travels in the URL
    body = client.get(response["Location"]).content.decode()
    assert "赵敏" in body
    assert world.resident_a.name not in body
    assert number not in body
    assert number[:6] + "********" + number[-4:] in body


def test_id_number_typed_into_search_box_is_moved_out_of_the_url(
    client: Any, world: Any, staff: Any
) -> None:
    number = valid_id_number(778)
    ResidentFactory(household=world.household_b, name="赵敏", id_number=number)
    client.force_login(staff)
    response = client.get(CHANGELIST, {"q": number})
    assert response.status_code == 302
    assert number not in response["Location"]
    assert "赵敏" in client.get(response["Location"]).content.decode()


def test_changelist_is_scoped_and_masked(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    body = client.get(CHANGELIST).content.decode()
    assert world.resident_a.name in body
    assert world.other_resident.name not in body
    assert world.resident_a.phone not in body


def test_out_of_scope_change_page_is_not_found(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    response = client.get(f"{CHANGELIST}{world.other_resident.pk}/change/")
    assert response.status_code in (302, 404)  # admin redirects to the index with a message
    assert (
        world.other_resident.name
        not in client.get(response.get("Location", CHANGELIST)).content.decode()
    )


def test_staff_edit_goes_through_service_and_history(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    resident = world.resident_a
    response = client.post(
        f"{CHANGELIST}{resident.pk}/change/",
        {
            "household": resident.household_id,
            "name": "张建国",
            "relation_to_head": "head",
            "gender": "male",
            "birth_date": "1980-05-17",
            "phone": "139 0000 7777",
            "id_number": "",
            "status": "active",
            "moved_in_on": "",
            "moved_out_on": "",
            "note": "",
            "tags": [],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    resident.refresh_from_db()
    assert resident.phone == "13900007777"
    assert resident.history.first().history_user == staff


def test_staff_cannot_set_an_invalid_id_number(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    resident = world.resident_a
    response = client.post(
        f"{CHANGELIST}{resident.pk}/change/",
        {
            "household": resident.household_id,
            "name": resident.name,
            "relation_to_head": "head",
            "gender": "female",
            "phone": "",
            "id_number": "110105194912310021",
            "status": "active",
        },
    )
    assert response.status_code == 200
    assert Resident.objects.get(pk=resident.pk).id_number_hash == resident.id_number_hash


def test_grid_worker_and_outsider_have_no_admin(
    client: Any, world: Any, grid_worker: Any, outsider: Any
) -> None:
    for user in (grid_worker, outsider):
        client.force_login(user)
        response = client.get(CHANGELIST)
        assert response.status_code == 302  # not staff: sent to the admin login


def test_street_supervisor_reads_but_cannot_change(
    client: Any, world: Any, street_supervisor: Any
) -> None:
    client.force_login(street_supervisor)
    body = client.get(CHANGELIST).content.decode()
    assert world.other_resident.name in body
    response = client.post(f"{CHANGELIST}{world.resident_a.pk}/change/", {"name": "x"})
    assert response.status_code == 403
