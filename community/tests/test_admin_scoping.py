"""The admin keeps to scoping everywhere: history pages, edit rights, choices, filters."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest

from community import services
from community.models import Estate, Resident, ServiceContact
from community.scoping import can_edit_object, scope_filter
from community.tests.factories import MembershipFactory, ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _resident_form(resident: Resident, **changes: Any) -> dict[str, Any]:
    data = {
        "household": resident.household_id,
        "name": resident.name,
        "relation_to_head": resident.relation_to_head,
        "gender": resident.gender,
        "birth_date": "1980-05-17",
        "phone": resident.phone,
        "id_number": "",
        "status": "active",
        "moved_in_on": "",
        "moved_out_on": "",
        "note": "",
        "tags": [],
    }
    data.update(changes)
    return data


def _not_shown(client: Any, response: Any, text: str) -> None:
    """The admin's answer for an object out of scope: 404, or a redirect that hides it."""
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert text not in client.get(response["Location"]).content.decode()


# History views (finding: simple-history's views bypassed get_queryset) --------------


def test_history_of_another_communitys_estate_is_not_shown(
    client: Any, world: Any, staff: Any
) -> None:
    estate = world.other_estate
    version = estate.history.first().history_id
    client.force_login(staff)

    listing = client.get(f"/admin/community/estate/{estate.pk}/history/")
    form = client.get(f"/admin/community/estate/{estate.pk}/history/{version}/")

    _not_shown(client, listing, estate.name)
    _not_shown(client, form, estate.name)
    assert estate.name not in listing.content.decode() + form.content.decode()


def test_reverting_another_communitys_estate_into_ones_own_changes_nothing(
    client: Any, world: Any, staff: Any
) -> None:
    estate = world.other_estate
    version = estate.history.first().history_id
    client.force_login(staff)

    client.post(
        f"/admin/community/estate/{estate.pk}/history/{version}/",
        {"community": world.home.pk, "name": estate.name, "address": "", "property_company": ""},
    )

    assert Estate.objects.get(pk=estate.pk).community_id == world.other.pk


def test_read_only_supervisor_cannot_change_a_resident_through_the_history_form(
    client: Any, world: Any, street_supervisor: Any
) -> None:
    resident = world.resident_a
    version = resident.history.first().history_id
    client.force_login(street_supervisor)

    response = client.post(
        f"/admin/community/resident/{resident.pk}/history/{version}/",
        _resident_form(resident, name="改名"),
    )

    assert response.status_code == 405
    assert Resident.objects.get(pk=resident.pk).name == resident.name


def test_even_an_editor_cannot_revert_through_the_history_form(
    client: Any, world: Any, staff: Any
) -> None:
    resident = world.resident_a
    version = resident.history.first().history_id
    client.force_login(staff)

    response = client.post(
        f"/admin/community/resident/{resident.pk}/history/{version}/",
        _resident_form(resident, name="改名"),
    )

    assert response.status_code == 405
    assert Resident.objects.get(pk=resident.pk).name == resident.name


def test_history_pages_of_own_objects_still_open(client: Any, world: Any, staff: Any) -> None:
    estate = world.estate
    version = estate.history.first().history_id
    client.force_login(staff)

    assert client.get(f"/admin/community/estate/{estate.pk}/history/").status_code == 200
    form = client.get(f"/admin/community/estate/{estate.pk}/history/{version}/")
    assert form.status_code == 200
    assert estate.name in form.content.decode()


@pytest.mark.parametrize("version", ["abc", "1.5", "99999999999999999999999"])
def test_history_form_with_a_bad_version_id_is_not_found(
    client: Any, world: Any, staff: Any, version: str
) -> None:
    client.force_login(staff)
    response = client.get(f"/admin/community/estate/{world.estate.pk}/history/{version}/")
    assert response.status_code == 404


def test_history_form_of_another_objects_version_is_not_found(
    client: Any, world: Any, staff: Any
) -> None:
    foreign_version = world.other_estate.history.first().history_id
    client.force_login(staff)
    response = client.get(f"/admin/community/estate/{world.estate.pk}/history/{foreign_version}/")
    assert response.status_code == 404


def test_service_contact_history_of_another_community_is_not_shown(
    client: Any, world: Any, staff: Any
) -> None:
    contact = ServiceContact.objects.create(
        community=world.other, street=world.street, category="water", name="别社区水务", phone="1"
    )
    version = contact.history.first().history_id
    client.force_login(staff)

    _not_shown(
        client, client.get(f"/admin/community/servicecontact/{contact.pk}/history/"), "别社区水务"
    )
    _not_shown(
        client,
        client.get(f"/admin/community/servicecontact/{contact.pk}/history/{version}/"),
        "别社区水务",
    )


# Edit rights per object (finding: edit rights were global) ---------------------------


@pytest.fixture
def staff_living_elsewhere(world: Any, staff: Any) -> Any:
    """`staff` of `home` who lives in the other community (other_household)."""
    world.other_resident.user = staff
    world.other_resident.save(update_fields=["user"])
    return staff


def test_staff_sees_their_own_household_elsewhere_but_cannot_change_it(
    client: Any, world: Any, staff_living_elsewhere: Any
) -> None:
    user = staff_living_elsewhere
    resident = world.other_resident
    client.force_login(user)

    page = client.get(f"/admin/community/resident/{resident.pk}/change/")
    response = client.post(
        f"/admin/community/resident/{resident.pk}/change/", _resident_form(resident, name="改名")
    )

    assert page.status_code == 200  # they may see it (they live there) ...
    assert 'name="name"' not in page.content.decode()  # ... read-only
    assert response.status_code == 403
    assert Resident.objects.get(pk=resident.pk).name == resident.name
    household = client.post(
        f"/admin/community/household/{world.other_household.pk}/change/",
        {"unit": world.other_household.unit_id, "room": "999", "area_m2": "80"},
    )
    assert household.status_code == 403


def test_staff_cannot_move_a_resident_into_a_household_they_only_see(
    client: Any, world: Any, staff_living_elsewhere: Any
) -> None:
    client.force_login(staff_living_elsewhere)
    resident = world.resident_a
    response = client.post(
        f"/admin/community/resident/{resident.pk}/change/",
        _resident_form(resident, household=world.other_household.pk),
    )
    assert response.status_code == 200  # the form again, with an error on household
    assert Resident.objects.get(pk=resident.pk).household_id == world.household_a.pk


def test_edit_scope_is_the_communities_of_edit_roles_only(
    world: Any, staff_living_elsewhere: Any, grid_worker: Any, property_staff: Any
) -> None:
    assert can_edit_object(staff_living_elsewhere, world.resident_a)
    assert not can_edit_object(staff_living_elsewhere, world.other_resident)
    assert not can_edit_object(staff_living_elsewhere, world.other_household)
    for user in (grid_worker, property_staff):
        assert not can_edit_object(user, world.resident_a)
        assert not scope_filter(Resident.objects.all(), user, edit=True).exists()
    visible = scope_filter(Resident.objects.all(), staff_living_elsewhere)
    editable = scope_filter(Resident.objects.all(), staff_living_elsewhere, edit=True)
    assert world.other_resident in visible
    assert world.other_resident not in editable


def test_street_supervisor_reads_a_resident_with_birth_year_only(
    client: Any, world: Any, street_supervisor: Any
) -> None:
    resident = world.resident_a
    client.force_login(street_supervisor)
    body = client.get(f"/admin/community/resident/{resident.pk}/change/").content.decode()
    assert resident.id_number_masked in body
    assert "1980" in body
    for shown in ("1980-05-17", "1980年5月17日", "May 17, 1980", "19800517"):
        assert shown not in body


def test_street_supervisor_history_pages_show_no_full_birth_date(
    client: Any, world: Any, street_supervisor: Any
) -> None:
    resident = world.resident_a
    services.resident_update(resident=resident, actor=None, birth_date=dt.date(1981, 6, 18))
    version = resident.history.earliest().history_id
    client.force_login(street_supervisor)
    base = f"/admin/community/resident/{resident.pk}/history/"
    for url in (base, f"{base}{version}/"):
        body = client.get(url).content.decode()
        for shown in ("1980-05-17", "1980年5月17日", "1981-06-18", "1981年6月18日"):
            assert shown not in body, url


# Service directory (finding: writes not scoped) ---------------------------------------


def _contact_form(**fields: Any) -> dict[str, Any]:
    data = {"category": "water", "name": "自来水公司", "phone": "96116", "hours": "", "note": ""}
    data.update(fields)
    return data


def test_staff_cannot_add_a_contact_for_another_community(
    client: Any, world: Any, staff: Any
) -> None:
    client.force_login(staff)
    add = "/admin/community/servicecontact/add/"

    other = client.post(add, _contact_form(community=world.other.pk, street=world.street.pk))
    street_wide = client.post(add, _contact_form(community="", street=world.street.pk))
    own = client.post(add, _contact_form(community=world.home.pk, street=world.street.pk))

    assert other.status_code == 200 and street_wide.status_code == 200  # form errors
    assert own.status_code == 302
    assert list(ServiceContact.objects.values_list("community_id", flat=True)) == [world.home.pk]
    choices = client.get(add).content.decode()
    assert world.home.name in choices
    assert world.other.name not in choices


def test_staff_cannot_change_a_street_wide_contact(client: Any, world: Any, staff: Any) -> None:
    contact = ServiceContact.objects.create(
        community=None, street=world.street, category="water", name="街道水务", phone="1"
    )
    client.force_login(staff)
    response = client.post(
        f"/admin/community/servicecontact/{contact.pk}/change/",
        _contact_form(community=world.home.pk, street=world.street.pk, name="改名"),
    )
    assert response.status_code == 403
    assert ServiceContact.objects.get(pk=contact.pk).name == "街道水务"


def test_superuser_may_add_a_street_wide_contact(client: Any, world: Any) -> None:
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    response = client.post(
        "/admin/community/servicecontact/add/", _contact_form(community="", street=world.street.pk)
    )
    assert response.status_code == 302
    assert ServiceContact.objects.get().community_id is None


# List filters (finding: they listed every community's estates and grids) ------------


def test_list_filters_offer_only_visible_estates_and_grids(
    client: Any, world: Any, staff: Any
) -> None:
    from community.tests.factories import GridFactory

    other_grid = GridFactory(community=world.other, name="别社区网格")
    world.other_building.grid = other_grid
    world.other_building.save(update_fields=["grid"])
    client.force_login(staff)
    for url in ("/admin/community/building/", "/admin/community/household/"):
        body = client.get(url).content.decode()
        assert world.estate.name in body
        assert world.other_estate.name not in body, url
        assert other_grid.name not in body, url


# Saving a resident (finding: unlocked save) -------------------------------------------


def test_admin_change_saves_through_the_locking_update_service(
    client: Any, world: Any, staff: Any
) -> None:
    client.force_login(staff)
    resident = world.resident_a
    with mock.patch.object(services, "resident_update", wraps=services.resident_update) as update:
        response = client.post(
            f"/admin/community/resident/{resident.pk}/change/",
            _resident_form(resident, note="已走访"),
        )
    assert response.status_code == 302
    update.assert_called_once()
    assert Resident.objects.get(pk=resident.pk).note == "已走访"


def test_admin_add_saves_through_the_create_service(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    with mock.patch.object(services, "resident_create", wraps=services.resident_create) as create:
        response = client.post(
            "/admin/community/resident/add/",
            _resident_form(
                ResidentFactory.build(household=world.household_a, phone=""), name="新居民"
            ),
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    create.assert_called_once()
    created = Resident.objects.get(name="新居民")
    assert created.history.first().history_user == staff


def test_other_communitys_staff_member_cannot_be_given_choices_outside_edit_scope(
    client: Any, world: Any
) -> None:
    other_staff = UserFactory(is_staff=True)
    MembershipFactory(user=other_staff, role="community_staff", community=world.other)
    client.force_login(other_staff)
    body = client.get("/admin/community/building/add/").content.decode()
    assert world.other_estate.name in body
    assert world.estate.name not in body
