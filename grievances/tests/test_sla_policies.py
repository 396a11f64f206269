"""The seeded promises: 1715 and the repair tiers, installed once, never overwritten."""

from __future__ import annotations

import pytest

from grievances.models import SlaClockSpec, SlaPolicy, Tier, Trigger
from grievances.sla.policies import POLICY_1715, POLICY_REPAIR, sla_policies_install

pytestmark = pytest.mark.django_db

Kind = SlaClockSpec.Kind


def specs(code: str) -> dict[str, SlaClockSpec]:
    return {spec.kind: spec for spec in SlaClockSpec.objects.filter(policy__code=code)}


def test_the_1715_policy_promises_ten_minutes_an_hour_and_a_day() -> None:
    sla_policies_install()
    clocks = specs(POLICY_1715)
    assert set(clocks) == {Kind.ARRIVE, Kind.RESOLVE, Kind.PLAN}
    arrive, resolve, plan = clocks[Kind.ARRIVE], clocks[Kind.RESOLVE], clocks[Kind.PLAN]
    assert (arrive.tier, arrive.target_minutes, arrive.pauses_while_waiting) == ("", 10, False)
    assert (resolve.tier, resolve.target_minutes) == (Tier.ROUTINE, 60)
    assert (plan.tier, plan.target_minutes) == (Tier.COMPLEX, 1440)
    assert Trigger.PLAN_SUBMITTED in plan.stop_on
    assert {spec.start_on for spec in clocks.values()} == {Trigger.DISPATCH_ACCEPTED}


def test_the_repair_policy_counts_medium_and_major_repairs_in_working_days() -> None:
    sla_policies_install()
    clocks = specs(POLICY_REPAIR)
    minor, medium, major = (
        clocks[Kind.REPAIR_MINOR],
        clocks[Kind.REPAIR_MEDIUM],
        clocks[Kind.REPAIR_MAJOR],
    )
    assert (minor.calendar, minor.target_minutes, minor.tier) == (
        "continuous",
        1440,
        Tier.REPAIR_MINOR,
    )
    assert (medium.calendar, medium.target_days, medium.tier) == (
        "working_days",
        7,
        Tier.REPAIR_MEDIUM,
    )
    assert (major.calendar, major.target_days, major.tier) == (
        "working_days",
        15,
        Tier.REPAIR_MAJOR,
    )
    assert Kind.ARRIVE in clocks


def test_installing_twice_changes_nothing_and_keeps_staff_edits() -> None:
    first = sla_policies_install()
    SlaClockSpec.objects.filter(policy__code=POLICY_1715, kind=Kind.RESOLVE).update(
        target_minutes=45
    )
    again = sla_policies_install()
    assert {code: policy.pk for code, policy in first.items()} == {
        code: policy.pk for code, policy in again.items()
    }
    assert SlaPolicy.objects.count() == 2
    assert SlaClockSpec.objects.count() == 9
    assert specs(POLICY_1715)[Kind.RESOLVE].target_minutes == 45
