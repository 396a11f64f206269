"""Scoping (DESIGN §3): each persona sees exactly its part of the registry."""

from __future__ import annotations

from typing import Any

import pytest

from community import selectors
from community.models import Membership, ResidentTag
from community.tests.factories import (
    MembershipFactory,
    ResidentFactory,
    UserFactory,
    valid_id_number,
)

pytestmark = pytest.mark.django_db


def names(qs: Any) -> set[str]:
    return {r.name for r in qs}


def test_resident_sees_only_their_household(world: Any, resident: Any) -> None:
    ResidentFactory(household=world.household_a, name="张小明")
    assert names(selectors.resident_list(user=resident)) == {"张建国", "张小明"}


def test_grid_worker_sees_only_their_grid(world: Any, grid_worker: Any) -> None:
    assert names(selectors.resident_list(user=grid_worker)) == {"张建国"}
    assert {b.pk for b in selectors.building_list(user=grid_worker)} == {world.building_a.pk}
    assert [g.pk for g in selectors.grid_list(user=grid_worker)] == [world.grid_a.pk]


def test_staff_see_their_community_only(world: Any, staff: Any) -> None:
    assert names(selectors.resident_list(user=staff)) == {"张建国", "李秀英"}
    assert world.other_building.pk not in {b.pk for b in selectors.building_list(user=staff)}


def test_street_supervisor_sees_the_whole_street(world: Any, street_supervisor: Any) -> None:
    assert names(selectors.resident_list(user=street_supervisor)) == {"张建国", "李秀英", "王芳"}


def test_property_staff_see_the_estates_their_company_serves(
    world: Any, property_staff: Any
) -> None:
    assert names(selectors.resident_list(user=property_staff)) == {"张建国", "李秀英"}


def test_outsider_sees_nothing(world: Any, outsider: Any) -> None:
    assert not selectors.resident_list(user=outsider).exists()
    assert not selectors.household_list(user=outsider).exists()
    assert not selectors.building_list(user=outsider).exists()
    assert not selectors.grid_list(user=outsider).exists()


def test_inactive_membership_grants_nothing(world: Any) -> None:
    user = UserFactory()
    MembershipFactory(
        user=user, role=Membership.Role.GRID_WORKER, grid=world.grid_a, is_active=False
    )
    assert not selectors.resident_list(user=user).exists()


def test_roles_without_registry_access_see_nothing(world: Any) -> None:
    user = UserFactory()
    MembershipFactory(user=user, role=Membership.Role.SUPERMARKET_CLERK, community=world.home)
    assert not selectors.resident_list(user=user).exists()


def test_search_by_whole_id_number_uses_the_hash(world: Any, staff: Any) -> None:
    number = valid_id_number(4242)
    ResidentFactory(household=world.household_b, name="赵敏", id_number=number)
    assert names(selectors.resident_list(user=staff, search=number.lower())) == {"赵敏"}
    # A partial ID number finds nothing: there is no plaintext to match against.
    assert not selectors.resident_list(user=staff, search=number[:10]).filter(name="赵敏").exists()


def test_search_by_name_and_phone(world: Any, staff: Any) -> None:
    ResidentFactory(household=world.household_b, name="钱多多", phone="13912345678")
    assert names(selectors.resident_list(user=staff, search="多多")) == {"钱多多"}
    assert names(selectors.resident_list(user=staff, search="139 1234 5678")) == {"钱多多"}


def test_search_never_reaches_outside_scope(world: Any, grid_worker: Any) -> None:
    assert not selectors.resident_list(user=grid_worker, search="王芳").exists()


def test_filter_by_tag_and_building(world: Any, staff: Any) -> None:
    tag, _ = ResidentTag.objects.get_or_create(code="party-member", defaults={"name": "党员"})
    world.resident_b.tags.add(tag)
    assert names(selectors.resident_list(user=staff, tag="party-member")) == {"李秀英"}
    assert names(selectors.resident_list(user=staff, building_id=world.building_a.pk)) == {"张建国"}
