"""The seeded grievance categories (诉求分类), in two levels, from community practice.

Each top level names its SLA policy (subcategories inherit it) and each leaf its
default handler, tier, privacy and whether the work is within the property contract.
A few ask extra questions (Open311 attributes: their answers help the handler bring the
right tools). Names are data in the UI language.

`categories_install` creates what is missing and leaves existing rows alone: the office
may have renamed or retired one in the admin, and a re-run of the seed must not undo it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from grievances.models import Category, Tier
from grievances.sla.policies import POLICY_1715, POLICY_REPAIR, sla_policies_install

PROPERTY = Category.Handler.PROPERTY_COMPANY
OFFICE = Category.Handler.COMMUNITY_OFFICE


def _choice(
    code: str, description: str, values: list[tuple[str, str]], required: bool = True
) -> dict[str, Any]:
    return {
        "code": code,
        "datatype": "singlevaluelist",
        "required": required,
        "variable": True,
        "order": 1,
        "description": description,
        "values": [{"key": key, "name": name} for key, name in values],
    }


_FLOOR = {
    "code": "floor",
    "datatype": "number",
    "required": False,
    "variable": True,
    "order": 2,
    "description": "楼层",
}

#: (code, name, policy, [(code, name, handler, tier, private, in contract, attributes)])
CATEGORIES: list[
    tuple[str, str, str, list[tuple[str, str, str, str, bool, bool, list[dict[str, Any]]]]]
] = [
    (
        "repair",
        "房屋维修",
        POLICY_REPAIR,
        [
            (
                "repair-leak",
                "漏水",
                PROPERTY,
                Tier.REPAIR_MINOR,
                False,
                True,
                [
                    _choice(
                        "where",
                        "漏水位置",
                        [
                            ("ceiling", "天花板"),
                            ("wall", "墙面"),
                            ("pipe", "管道"),
                            ("roof", "屋顶"),
                        ],
                    ),
                    _FLOOR,
                ],
            ),
            ("repair-door-window", "门窗", PROPERTY, Tier.REPAIR_MINOR, False, True, []),
            (
                "repair-pipe",
                "管道",
                PROPERTY,
                Tier.REPAIR_MEDIUM,
                False,
                True,
                [
                    _choice(
                        "pipe", "管道类型", [("water", "给水"), ("drain", "排水"), ("gas", "燃气")]
                    )
                ],
            ),
            ("repair-septic", "化粪池", PROPERTY, Tier.REPAIR_MAJOR, False, False, []),
        ],
    ),
    (
        "facility",
        "公共设施",
        POLICY_1715,
        [
            ("facility-manhole", "井盖", PROPERTY, Tier.ROUTINE, False, True, []),
            ("facility-streetlight", "路灯", PROPERTY, Tier.ROUTINE, False, True, []),
            (
                "facility-lift",
                "电梯",
                PROPERTY,
                Tier.ROUTINE,
                False,
                True,
                [_choice("trapped", "是否有人被困", [("yes", "有人被困"), ("no", "无人被困")])],
            ),
            ("facility-stair-light", "楼道照明", PROPERTY, Tier.ROUTINE, False, True, [_FLOOR]),
        ],
    ),
    (
        "sanitation",
        "环境卫生",
        POLICY_1715,
        [
            ("sanitation-garbage", "垃圾清运", PROPERTY, Tier.ROUTINE, False, True, []),
            ("sanitation-greenery", "绿化", PROPERTY, Tier.COMPLEX, False, True, []),
        ],
    ),
    (
        "parking",
        "停车与交通",
        POLICY_1715,
        [
            ("parking-occupied", "占用车位", PROPERTY, Tier.ROUTINE, False, True, []),
            ("parking-illegal", "乱停车", OFFICE, Tier.ROUTINE, False, False, []),
        ],
    ),
    (
        "neighbour",
        "邻里纠纷",
        POLICY_1715,
        [
            # Disputes name people: never public, never in Open311 GET.
            ("neighbour-noise", "噪音", OFFICE, Tier.COMPLEX, True, False, []),
            ("neighbour-leak", "漏水纠纷", OFFICE, Tier.COMPLEX, True, False, []),
        ],
    ),
    (
        "safety",
        "安全隐患",
        POLICY_1715,
        [
            ("safety-fire-lane", "消防通道", PROPERTY, Tier.ROUTINE, False, True, []),
            ("safety-flying-lead", "飞线充电", OFFICE, Tier.ROUTINE, False, False, []),
        ],
    ),
    ("property-service", "物业服务", POLICY_1715, []),
    ("suggestion", "意见建议", "", []),
]
#: Top levels without subcategories: their own handler, tier and privacy.
_LEAF_TOPS: dict[str, tuple[str, str, bool, bool]] = {
    "property-service": (OFFICE, Tier.COMPLEX, False, True),
    "suggestion": (OFFICE, Tier.COMPLEX, False, False),
}


def categories_install() -> dict[str, Category]:
    """Create the seeded categories (and the SLA policies they use) where missing."""
    policies = sla_policies_install()
    installed: dict[str, Category] = {}
    with transaction.atomic():
        for order, (code, name, policy_code, children) in enumerate(CATEGORIES, start=1):
            handler, tier, private, in_contract = _LEAF_TOPS.get(
                code, (PROPERTY, Tier.ROUTINE, False, True)
            )
            top, _created = Category.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "sla_policy": policies.get(policy_code),
                    "default_handler": handler,
                    "default_tier": tier,
                    "is_private": private,
                    "in_contract_scope": in_contract,
                    "sort_order": order * 10,
                },
            )
            installed[code] = top
            for child_order, (
                child_code,
                child_name,
                child_handler,
                child_tier,
                child_private,
                child_contract,
                attributes,
            ) in enumerate(children, start=1):
                child, _created = Category.objects.get_or_create(
                    code=child_code,
                    defaults={
                        "parent": top,
                        "name": child_name,
                        "default_handler": child_handler,
                        "default_tier": child_tier,
                        "is_private": child_private,
                        "in_contract_scope": child_contract,
                        "attributes": attributes,
                        "sort_order": order * 10 + child_order,
                    },
                )
                installed[child_code] = child
    return installed
