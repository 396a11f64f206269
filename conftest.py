"""Shared fixtures: the personas every page and API test uses (STYLE.md), and services.

The world: one street with two communities. `home` has an estate served by a property
company, two buildings in two grids; `other` is a neighbouring community nobody here
works in except the street supervisor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation

from community.models import DEFAULT_RESIDENT_TAGS, Membership, Organization, ResidentTag
from community.tests.factories import (
    BuildingFactory,
    CommunityFactory,
    EstateFactory,
    GridFactory,
    HouseholdFactory,
    MembershipFactory,
    OrganizationFactory,
    ResidentFactory,
    StreetFactory,
    UnitFactory,
    UserFactory,
)

Role = Membership.Role


@dataclass
class World:
    street: Any
    home: Any
    other: Any
    estate: Any
    other_estate: Any
    property_company: Any
    grid_a: Any
    grid_b: Any
    building_a: Any
    building_b: Any
    other_building: Any
    household_a: Any
    household_b: Any
    other_household: Any
    resident_a: Any
    resident_b: Any
    other_resident: Any


@pytest.fixture(autouse=True)
def _ui_language() -> Any:
    """Each test starts in the UI's default language (简体中文).

    A request activates its language on the thread and nothing resets it afterwards (in
    production the next request activates its own); without this, a test that asked for
    English would leave it active for whatever test the same worker runs next.
    """
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def world(db: Any) -> World:
    # The default tags come from a data migration; a transactional test's flush (on
    # PostgreSQL) empties the table for the tests after it, so put them back.
    for code, name in DEFAULT_RESIDENT_TAGS:
        ResidentTag.objects.get_or_create(code=code, defaults={"name": name})
    street = StreetFactory()
    home = CommunityFactory(street=street)
    other = CommunityFactory(street=street)
    company = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY)
    estate = EstateFactory(community=home, property_company=company)
    other_estate = EstateFactory(community=other)
    grid_a = GridFactory(community=home)
    grid_b = GridFactory(community=home)
    building_a = BuildingFactory(estate=estate, grid=grid_a)
    building_b = BuildingFactory(estate=estate, grid=grid_b)
    other_building = BuildingFactory(estate=other_estate)
    household_a = HouseholdFactory(unit=UnitFactory(building=building_a))
    household_b = HouseholdFactory(unit=UnitFactory(building=building_b))
    other_household = HouseholdFactory(unit=UnitFactory(building=other_building))
    return World(
        street=street,
        home=home,
        other=other,
        estate=estate,
        other_estate=other_estate,
        property_company=company,
        grid_a=grid_a,
        grid_b=grid_b,
        building_a=building_a,
        building_b=building_b,
        other_building=other_building,
        household_a=household_a,
        household_b=household_b,
        other_household=other_household,
        resident_a=ResidentFactory(household=household_a, name="张建国"),
        resident_b=ResidentFactory(household=household_b, name="李秀英"),
        other_resident=ResidentFactory(household=other_household, name="王芳"),
    )


def _user(name: str, **kwargs: Any) -> Any:
    return UserFactory(name=name, **kwargs)


@pytest.fixture
def resident(world: World) -> Any:
    """A resident with a login, living in household_a."""
    user = _user("张建国")
    world.resident_a.user = user
    world.resident_a.save(update_fields=["user"])
    return user


@pytest.fixture
def grid_worker(world: World) -> Any:
    """The grid worker of grid_a (building_a only)."""
    user = _user("王网格")
    MembershipFactory(user=user, role=Role.GRID_WORKER, grid=world.grid_a)
    return user


@pytest.fixture
def staff(world: World) -> Any:
    """Community staff of `home`, with admin access."""
    user = _user("刘干事", is_staff=True)
    MembershipFactory(user=user, role=Role.COMMUNITY_STAFF, community=world.home)
    return user


@pytest.fixture
def street_supervisor(world: World) -> Any:
    """Supervisor of the whole street: both communities, read-only."""
    user = _user("周科长", is_staff=True)
    MembershipFactory(user=user, role=Role.STREET_SUPERVISOR, street=world.street)
    return user


@pytest.fixture
def property_staff(world: World) -> Any:
    """Staff of the property company that serves `estate`."""
    user = _user("孙经理")
    MembershipFactory(user=user, role=Role.PROPERTY_STAFF, organization=world.property_company)
    return user


@pytest.fixture
def outsider(world: World) -> Any:
    """A logged-in user with no role and no household: sees nothing."""
    return _user("路人甲")


def _service_missing(reason: str) -> None:
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def require_postgres() -> None:
    """For tests that prove locking: SQLite ignores row locks, so they need PostgreSQL."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        _service_missing("needs PostgreSQL: set DATABASE_URL=postgres://…")


@pytest.fixture
def require_redis() -> str:
    """For tests of the broker and cache: a real Redis at REDIS_URL."""
    url: str = settings.REDIS_URL or ""
    if not url:
        _service_missing("needs Redis: set REDIS_URL=redis://…")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        _service_missing(f"Redis at {url} does not answer: {exc}")
    return url
