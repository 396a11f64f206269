"""The demo: every status, real timelines and clocks, deterministic, idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from community.models import Organization
from community.tests.factories import (
    HouseholdFactory,
    OrganizationFactory,
    ResidentFactory,
    UnitFactory,
)
from credit.models import PointsEntry
from credit.services import standard_install
from grievances.categories import CATEGORIES, categories_install
from grievances.demo import DEMO_NOW, grievance_demo_build
from grievances.models import (
    Category,
    CostShare,
    DeadlineExtension,
    Grievance,
    Rating,
    SlaClock,
    SlaEvent,
    TimelineEvent,
)
from grievances.workflow import TRANSITIONS

pytestmark = pytest.mark.django_db
Status = Grievance.Status


def test_categories_install_two_levels_once(db: Any) -> None:
    made = categories_install()
    assert len(made) == len(CATEGORIES) + sum(len(children) for *_x, children in CATEGORIES)
    leak = Category.objects.get(code="repair-leak")
    assert leak.parent is not None and leak.parent.sla_policy is not None
    assert leak.parent.sla_policy.code == "repair"
    assert Category.objects.get(code="neighbour-noise").is_private
    assert any(a["required"] for a in leak.attributes)
    before = Category.objects.count()
    Category.objects.filter(code="repair-leak").update(name="漏水（改）")
    categories_install()
    assert Category.objects.count() == before
    assert Category.objects.get(code="repair-leak").name == "漏水（改）"


@pytest.fixture
def demo_world(world: Any, staff: Any, grid_worker: Any, property_staff: Any, resident: Any) -> Any:
    OrganizationFactory(
        kind=Organization.Kind.COMMUNITY_OFFICE, name="演示居委会", community=world.home
    )
    for building in (world.building_a, world.building_b):
        unit = UnitFactory(building=building)
        for _ in range(4):
            ResidentFactory(household=HouseholdFactory(unit=unit))
    standard_install(street=world.street, valid_from=dt.date(2026, 1, 1))
    return world


def test_the_demo_has_every_status_through_the_services(demo_world: Any) -> None:
    made = grievance_demo_build(community=demo_world.home, now=DEMO_NOW)
    grievances = Grievance.objects.filter(community=demo_world.home)
    assert made["grievances"] == grievances.count() >= 25
    assert made["closed_automatically"] >= 2
    assert set(grievances.values_list("status", flat=True)) == set(Status.values)
    # Real stories: the timeline's status lines chain from "submitted" to where each
    # grievance is now, every step one the map allows.
    statuses = set(Status.values)
    for grievance in grievances:
        steps = [
            (old, new)
            for old, new in TimelineEvent.objects.filter(grievance=grievance)
            .order_by("at", "id")
            .values_list("old_value", "new_value")
            if old in statuses and new in statuses
        ]
        path = [Status.SUBMITTED] + [new for _old, new in steps]
        assert [old for old, _new in steps] == path[:-1], grievance
        assert all(new in TRANSITIONS[old] for old, new in steps), grievance
        assert path[-1] == grievance.status
    assert SlaClock.objects.filter(grievance__community=demo_world.home).exists()
    assert SlaEvent.objects.filter(kind="breach").exists()  # nobody came to one of them
    assert Rating.objects.filter(automatic=False, solved=False).exists()
    assert Rating.objects.filter(automatic=True).exists()
    assert CostShare.objects.filter(grievance__community=demo_world.home).exists()
    assert DeadlineExtension.objects.filter(status="approved").exists()
    assert grievances.filter(is_anonymous=True).exists()
    assert PointsEntry.objects.filter(idempotency_key__startswith="grievance-steward:").exists()


def test_the_demo_is_deterministic_and_idempotent(demo_world: Any) -> None:
    grievance_demo_build(community=demo_world.home, now=DEMO_NOW)
    first = list(
        Grievance.objects.order_by("pk").values_list("title", "status", "submitted_at", "tier")
    )
    assert grievance_demo_build(community=demo_world.home, now=DEMO_NOW) == {
        "grievances": 0,
        "closed_automatically": 0,
    }
    assert Grievance.objects.count() == len(first)
    Grievance.objects.filter(status=Status.MERGED).delete()  # they point at their target
    Grievance.objects.all().delete()
    grievance_demo_build(community=demo_world.home, now=DEMO_NOW)
    again = list(
        Grievance.objects.order_by("pk").values_list("title", "status", "submitted_at", "tier")
    )
    assert again == first


def test_a_community_without_an_office_gets_no_demo(world: Any) -> None:
    assert grievance_demo_build(community=world.other, now=DEMO_NOW)["grievances"] == 0
