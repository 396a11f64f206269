"""The sweep under concurrency, on PostgreSQL (SQLite ignores row locks and SKIP LOCKED).

Threads are released together through a barrier; each has its own database connection,
as two Celery workers (or beat and the embedded loop) would.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from accounts.models import Notification
from community.tests.factories import UserFactory
from grievances.models import Grievance, SlaClock, SlaEvent, Trigger
from grievances.sla.clocks import clock_deadlines, clocks_on_trigger, spec_snapshot
from grievances.sla.sweep import sla_sweep
from grievances.tests.factories_sla import SlaCategoryFactory, SlaClockSpecFactory
from tests.concurrency import all_together as together

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
CLOCKS = 2000


def due_clocks(world: Any, count: int, *, handler: Any = None) -> list[SlaClock]:
    """`count` grievances, each with a 60-minute clock started at T0 (due T0 + 1 h)."""
    spec = SlaClockSpecFactory(warn_percent=0, stop_on=[Trigger.RESOLVED])
    category = SlaCategoryFactory(sla_policy=spec.policy)
    grievances = Grievance.objects.bulk_create(
        Grievance(
            community=world.home,
            building=world.building_a,
            category=category,
            title=f"漏水{index}",
            description="漏水",
            channel=Grievance.Channel.HOTLINE,
            status=Grievance.Status.DISPATCHED,
            tier="routine",
            handler_user=handler,
            submitted_at=T0,
        )
        for index in range(count)
    )
    snapshot = spec_snapshot(spec)
    due_at, warn_at = clock_deadlines(snapshot, T0)
    return SlaClock.objects.bulk_create(
        SlaClock(
            grievance=grievance,
            kind=spec.kind,
            policy=spec.policy,
            spec=snapshot,
            started_at=T0,
            due_at=due_at,
            warn_at=warn_at,
        )
        for grievance in grievances
    )


def test_two_sweeps_at_once_record_each_breach_exactly_once(
    require_postgres: None, world: Any
) -> None:
    handler = UserFactory(name="陈师傅")
    due_clocks(world, CLOCKS, handler=handler)
    # Past due (T0 + 1 h), before the office's rung (T0 + 2 h).
    now = T0 + dt.timedelta(minutes=90)

    results, errors = together([lambda: sla_sweep(now=now, batch_size=100)] * 2)

    assert errors == []
    assert sum(result.breaches for result in results) == CLOCKS
    assert SlaEvent.objects.filter(kind=SlaEvent.Kind.BREACH).count() == CLOCKS
    assert SlaEvent.objects.count() == CLOCKS
    assert SlaClock.objects.filter(breached_at__isnull=True).count() == 0
    # The handler heard about each clock once.
    assert Notification.objects.filter(user=handler).count() == CLOCKS


def test_a_late_stop_racing_the_sweep_leaves_one_breach_per_clock(
    require_postgres: None, world: Any
) -> None:
    clocks = due_clocks(world, 300)
    grievances = list(Grievance.objects.filter(pk__in=[c.grievance_id for c in clocks]))
    now = T0 + dt.timedelta(minutes=90)

    def stop_all() -> None:
        for grievance in grievances:
            with transaction.atomic(durable=True):
                locked = Grievance.objects.select_for_update().get(pk=grievance.pk)
                clocks_on_trigger(grievance=locked, trigger=Trigger.RESOLVED, now=now)

    _results, errors = together([lambda: sla_sweep(now=now, batch_size=20), stop_all])

    assert errors == []
    assert SlaEvent.objects.filter(kind=SlaEvent.Kind.BREACH).count() == len(clocks)
    assert SlaClock.objects.filter(state=SlaClock.State.STOPPED).count() == len(clocks)
    assert SlaClock.objects.filter(breached_at__isnull=True).count() == 0
