"""Factories for the SLA engine's tests: policies, clock specs, calendar overrides, and a
grievance with the least a clock needs (the workflow's own factories live in factories.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from factory.django import DjangoModelFactory

from community.tests.factories import CommunityFactory
from grievances.models import (
    CalendarDay,
    Category,
    Grievance,
    SlaClock,
    SlaClockSpec,
    SlaPolicy,
    Tier,
    Trigger,
)
from grievances.sla.clocks import clock_deadlines, spec_snapshot


class SlaPolicyFactory(DjangoModelFactory[SlaPolicy]):
    class Meta:
        model = SlaPolicy

    code = factory.Sequence(lambda n: f"policy-{n}")
    name = factory.Sequence(lambda n: f"测试承诺{n}")


class SlaClockSpecFactory(DjangoModelFactory[SlaClockSpec]):
    """A 24×7 one-hour resolve clock from the handler's acceptance, unless told otherwise."""

    class Meta:
        model = SlaClockSpec

    policy = factory.SubFactory(SlaPolicyFactory)
    kind = SlaClockSpec.Kind.RESOLVE
    tier = ""
    calendar = SlaClockSpec.Calendar.CONTINUOUS
    target_minutes = 60
    target_days = None
    warn_percent = 80
    start_on = Trigger.DISPATCH_ACCEPTED
    stop_on = factory.LazyFunction(lambda: [Trigger.RESOLVED.value])
    pauses_while_waiting = True


class CalendarDayFactory(DjangoModelFactory[CalendarDay]):
    class Meta:
        model = CalendarDay
        django_get_or_create = ("date",)

    date = dt.date(2026, 11, 2)
    is_workday = False
    name = "测试调整"


class SlaCategoryFactory(DjangoModelFactory[Category]):
    class Meta:
        model = Category

    code = factory.Sequence(lambda n: f"sla-cat-{n}")
    name = factory.Sequence(lambda n: f"测试类别{n}")
    sla_policy = factory.SubFactory(SlaPolicyFactory)


class SlaGrievanceFactory(DjangoModelFactory[Grievance]):
    class Meta:
        model = Grievance

    community = factory.SubFactory(CommunityFactory)
    category = factory.SubFactory(SlaCategoryFactory)
    title = factory.Sequence(lambda n: f"楼道漏水{n}")
    description = "楼道顶部漏水"
    channel = Grievance.Channel.HOTLINE
    status = Grievance.Status.DISPATCHED
    tier = Tier.ROUTINE
    submitted_at = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def running_clock(
    grievance: Grievance, spec: SlaClockSpec, *, started_at: dt.datetime, **fields: Any
) -> SlaClock:
    """A running clock as clocks_on_trigger would start it, without the timeline line."""
    snapshot = spec_snapshot(spec)
    due_at, warn_at = clock_deadlines(snapshot, started_at)
    values: dict[str, Any] = {
        "grievance": grievance,
        "kind": spec.kind,
        "policy": spec.policy,
        "spec": snapshot,
        "started_at": started_at,
        "due_at": due_at,
        "warn_at": warn_at,
        **fields,
    }
    return SlaClock.objects.create(**values)
