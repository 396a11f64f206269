"""The seeded service promises: the 1715 rule and the repair tiers (DESIGN §1, §5).

1715 (红色物业 "1715" 服务承诺), counted from the handler's acceptance of the dispatch:

- arrive   on site within 10 minutes (24×7), every tier; warns at 70 % (3 minutes left,
           time to pick up the phone); stops on arrival, or on resolution if nobody had
           to come. Never paused: "waiting" is about access to the home or parts, which
           only matter once someone is there.
- resolve  routine problems solved within 1 hour (24×7); warns at 80 %.
- plan     complex problems: a plan within 1 day (1,440 minutes, 24×7); warns at 80 %;
           stops when the plan is submitted (or the problem is resolved outright).

Repair tiers (维修时限), counted from the same acceptance until resolved:

- repair_minor   1 day, 24×7 (1,440 minutes): a minor repair is promised for tomorrow
                 this time, weekend or not.
- repair_medium  7 working days; repair_major 15 working days (holidays and 调休 counted
                 by grievances.sla.calendar). Both warn at 80 % of the working time.

The repair policy also carries the 1715 clocks (arrive for every tier, resolve for
routine, plan for complex), so a repair category whose grievance is classed routine or
complex still has its promise. Every clock except arrive pauses while the grievance is
waiting (the resident is away, parts are on order).

`sla_policies_install` creates what is missing and leaves existing rows alone: staff may
have tuned a target in the admin, and a re-run of the seed must not undo that.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from grievances.models import SlaClockSpec, SlaPolicy, Tier, Trigger

Kind = SlaClockSpec.Kind
Calendar = SlaClockSpec.Calendar

POLICY_1715 = "1715"
POLICY_REPAIR = "repair"

_ARRIVE: dict[str, Any] = {
    "kind": Kind.ARRIVE,
    "tier": "",
    "calendar": Calendar.CONTINUOUS,
    "target_minutes": 10,
    "warn_percent": 70,
    "start_on": Trigger.DISPATCH_ACCEPTED,
    "stop_on": [Trigger.ON_SITE, Trigger.RESOLVED],
    "pauses_while_waiting": False,
}
_RESOLVE: dict[str, Any] = {
    "kind": Kind.RESOLVE,
    "tier": Tier.ROUTINE,
    "calendar": Calendar.CONTINUOUS,
    "target_minutes": 60,
    "warn_percent": 80,
    "start_on": Trigger.DISPATCH_ACCEPTED,
    "stop_on": [Trigger.RESOLVED],
    "pauses_while_waiting": True,
}
_PLAN: dict[str, Any] = {
    "kind": Kind.PLAN,
    "tier": Tier.COMPLEX,
    "calendar": Calendar.CONTINUOUS,
    "target_minutes": 24 * 60,
    "warn_percent": 80,
    "start_on": Trigger.DISPATCH_ACCEPTED,
    "stop_on": [Trigger.PLAN_SUBMITTED, Trigger.RESOLVED],
    "pauses_while_waiting": True,
}


def _repair(kind: str, tier: str, **target: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "tier": tier,
        "warn_percent": 80,
        "start_on": Trigger.DISPATCH_ACCEPTED,
        "stop_on": [Trigger.RESOLVED],
        "pauses_while_waiting": True,
        **target,
    }


#: code → (name, description, clock specs). Names are data in the UI language (zh-hans).
POLICIES: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    POLICY_1715: (
        "1715服务承诺",
        "接单后10分钟到场，一般问题1小时内解决，复杂问题1天内拿出方案。",
        [_ARRIVE, _RESOLVE, _PLAN],
    ),
    POLICY_REPAIR: (
        "维修时限",
        "接单后10分钟到场；小修1天，中修7个工作日，大修15个工作日（节假日顺延，调休上班日计入）。",
        [
            _ARRIVE,
            _RESOLVE,
            _PLAN,
            _repair(
                Kind.REPAIR_MINOR,
                Tier.REPAIR_MINOR,
                calendar=Calendar.CONTINUOUS,
                target_minutes=24 * 60,
            ),
            _repair(
                Kind.REPAIR_MEDIUM,
                Tier.REPAIR_MEDIUM,
                calendar=Calendar.WORKING_DAYS,
                target_days=7,
            ),
            _repair(
                Kind.REPAIR_MAJOR, Tier.REPAIR_MAJOR, calendar=Calendar.WORKING_DAYS, target_days=15
            ),
        ],
    ),
}


def sla_policies_install() -> dict[str, SlaPolicy]:
    """Create the 1715 and repair-tier policies and their clocks where missing (idempotent)."""
    installed: dict[str, SlaPolicy] = {}
    with transaction.atomic():
        for code, (name, description, specs) in POLICIES.items():
            policy, _created = SlaPolicy.objects.get_or_create(
                code=code, defaults={"name": name, "description": description}
            )
            for spec in specs:
                fields = {key: value for key, value in spec.items() if key != "kind"}
                fields["stop_on"] = [str(trigger) for trigger in fields["stop_on"]]
                SlaClockSpec.objects.get_or_create(
                    policy=policy, kind=spec["kind"], defaults=fields
                )
            installed[code] = policy
    return installed
