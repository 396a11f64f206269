"""Fixtures of the workflow tests: seeded policies, a few categories, and `flow`, which
walks a grievance through the services with a controlled clock."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from typing import Any

import pytest

from community.models import Organization
from community.tests.factories import OrganizationFactory
from grievances import services
from grievances.models import Category, Dispatch, Grievance, Tier
from grievances.sla.policies import POLICY_1715, POLICY_REPAIR, sla_policies_install
from grievances.tests.factories import NOW, CategoryFactory, photo_upload

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _private_storage(tmp_path: Any, settings: Any) -> Any:
    """Photos of each test go to a folder of their own, removed afterwards."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    yield settings.PRIVATE_STORAGE_ROOT
    shutil.rmtree(tmp_path / "private", ignore_errors=True)


@dataclass
class Categories:
    repair: Category
    leak: Category
    lamp: Category
    dispute: Category
    suggestion: Category


@pytest.fixture
def categories(db: Any) -> Categories:
    policies = sla_policies_install()
    repair = CategoryFactory(code="t-repair", name="房屋维修", sla_policy=policies[POLICY_REPAIR])
    leak = CategoryFactory(
        code="t-leak",
        name="漏水",
        parent=repair,
        default_tier=Tier.REPAIR_MINOR,
        attributes=[
            {
                "code": "where",
                "datatype": "singlevaluelist",
                "required": True,
                "description": "漏水位置",
                "values": [{"key": "ceiling", "name": "天花板"}, {"key": "pipe", "name": "管道"}],
            }
        ],
    )
    lamp = CategoryFactory(code="t-lamp", name="楼道照明", sla_policy=policies[POLICY_1715])
    dispute = CategoryFactory(
        code="t-noise",
        name="噪音",
        sla_policy=policies[POLICY_1715],
        default_handler=Category.Handler.COMMUNITY_OFFICE,
        is_private=True,
    )
    suggestion = CategoryFactory(
        code="t-suggestion",
        name="意见建议",
        sla_policy=None,
        default_handler=Category.Handler.COMMUNITY_OFFICE,
    )
    return Categories(repair=repair, leak=leak, lamp=lamp, dispute=dispute, suggestion=suggestion)


@pytest.fixture
def office_org(world: Any) -> Any:
    return OrganizationFactory(
        kind=Organization.Kind.COMMUNITY_OFFICE, name="测试居委会", community=world.home
    )


@dataclass
class Flow:
    """Walks grievances through the services; `now` moves on a minute per step."""

    world: Any
    categories: Categories
    staff: Any
    property_staff: Any
    resident: Any
    now: dt.datetime = NOW
    log: list[str] = field(default_factory=list)

    def tick(self, minutes: int = 1) -> dt.datetime:
        self.now += minutes * MINUTE
        return self.now

    def file(self, **kwargs: Any) -> Grievance:
        values: dict[str, Any] = {
            "community": self.world.home,
            "category": self.categories.lamp,
            "title": "三楼楼道灯不亮",
            "description": "晚上上楼看不见",
            "channel": Grievance.Channel.PORTAL,
            "submitted_by": self.resident,
            "now": self.tick(),
        }
        values.update(kwargs)
        return services.grievance_file(**values)

    def accepted(self, **kwargs: Any) -> Grievance:
        grievance = self.file(**kwargs)
        return services.grievance_accept(grievance=grievance, actor=self.staff, now=self.tick())

    def dispatched(self, **kwargs: Any) -> tuple[Grievance, Dispatch]:
        grievance = self.accepted(**kwargs)
        dispatch = services.grievance_dispatch(
            grievance=grievance,
            actor=self.staff,
            now=self.tick(),
            organization=self.world.property_company,
        )
        grievance.refresh_from_db()
        return grievance, dispatch

    def taken(self, **kwargs: Any) -> tuple[Grievance, Dispatch]:
        grievance, dispatch = self.dispatched(**kwargs)
        services.dispatch_accept(dispatch=dispatch, actor=self.property_staff, now=self.tick())
        grievance.refresh_from_db()
        dispatch.refresh_from_db()
        return grievance, dispatch

    def on_site(self, **kwargs: Any) -> Grievance:
        grievance, _dispatch = self.taken(**kwargs)
        services.grievance_check_in(
            grievance=grievance,
            actor=self.property_staff,
            now=self.tick(),
            latitude="31.230416",
            longitude="121.473701",
        )
        grievance.refresh_from_db()
        return grievance

    def resolved(self, **kwargs: Any) -> Grievance:
        grievance = self.on_site(**kwargs)
        services.grievance_resolve(
            grievance=grievance,
            actor=self.property_staff,
            note="换了灯泡",
            now=self.tick(),
            photos=[photo_upload()],
        )
        grievance.refresh_from_db()
        return grievance


@pytest.fixture
def flow(
    world: Any, categories: Categories, staff: Any, property_staff: Any, resident: Any
) -> Flow:
    return Flow(
        world=world,
        categories=categories,
        staff=staff,
        property_staff=property_staff,
        resident=resident,
    )
