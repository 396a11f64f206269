"""The sweep: warnings, breaches and the escalation ladder, each recorded and told once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Notification
from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from config.embedded import run_due
from grievances.models import Grievance, SlaClock, SlaClockSpec, SlaEvent, TimelineEvent, Trigger
from grievances.sla.clocks import clocks_on_trigger
from grievances.sla.escalation import grievance_path
from grievances.sla.sweep import sla_due_count, sla_sweep
from grievances.tasks import sla_sweep_task
from grievances.tests.factories_sla import (
    SlaCategoryFactory,
    SlaClockSpecFactory,
    SlaGrievanceFactory,
    running_clock,
)

pytestmark = pytest.mark.django_db

SHANGHAI = timezone.get_default_timezone()
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
MINUTE = dt.timedelta(minutes=1)


def inbox(user: Any) -> list[tuple[str, str]]:
    """(kind, ref) of each notification in a user's inbox, oldest first."""
    return list(Notification.objects.filter(user=user).order_by("pk").values_list("kind", "ref"))


def resolve_in_an_hour(world: Any, **grievance: Any) -> tuple[Grievance, SlaClock]:
    """A grievance in building_a (grid_a) whose only clock is a 60-minute resolve clock."""
    spec = SlaClockSpecFactory()
    category = SlaCategoryFactory(sla_policy=spec.policy)
    values = {"community": world.home, "building": world.building_a, "category": category}
    values.update(grievance)
    item = SlaGrievanceFactory.create(**values)
    [clock] = clocks_on_trigger(grievance=item, trigger=Trigger.DISPATCH_ACCEPTED, now=T0)
    return item, clock


def test_the_ladder_reaches_each_rung_once(
    world: Any, property_staff: Any, grid_worker: Any, staff: Any, street_supervisor: Any
) -> None:
    grievance, clock = resolve_in_an_hour(world, handler_organization=world.property_company)
    other_grid = UserFactory(name="赵网格")
    MembershipFactory(user=other_grid, role=Membership.Role.GRID_WORKER, grid=world.grid_b)
    everyone = (property_staff, grid_worker, staff, street_supervisor, other_grid)

    # 80 %: the handler (the property company's staff) is warned.
    result = sla_sweep(now=T0 + 48 * MINUTE)
    assert (result.warnings, result.breaches, result.notifications) == (1, 0, 1)
    warning = SlaEvent.objects.get(clock=clock, kind=SlaEvent.Kind.WARNING)
    assert inbox(property_staff) == [("grievance.sla_warning", f"sla-event:{warning.pk}")]
    assert [inbox(user) for user in everyone[1:]] == [[], [], [], []]
    note = Notification.objects.get(user=property_staff)
    assert note.link == grievance_path(grievance.pk) == f"/grievances/{grievance.pk}/"
    assert str(grievance.pk) in note.subject

    # Overdue: the handler and the grid worker of building_a's grid, nobody else.
    sla_sweep(now=T0 + 61 * MINUTE)
    breach = SlaEvent.objects.get(clock=clock, kind=SlaEvent.Kind.BREACH)
    assert breach.level == 1
    assert inbox(property_staff)[1:] == [("grievance.sla_breach", f"sla-event:{breach.pk}")]
    assert inbox(grid_worker) == [("grievance.sla_breach", f"sla-event:{breach.pk}")]
    assert inbox(staff) == inbox(street_supervisor) == inbox(other_grid) == []
    # The next rung is max(target, 30 min) after the due time.
    assert SlaClock.objects.get(pk=clock.pk).escalate_at == T0 + 120 * MINUTE

    sla_sweep(now=T0 + 119 * MINUTE)
    assert inbox(staff) == []
    sla_sweep(now=T0 + 120 * MINUTE)
    office = SlaEvent.objects.get(clock=clock, kind=SlaEvent.Kind.ESCALATION, level=2)
    assert inbox(staff) == [("grievance.sla_escalation", f"sla-event:{office.pk}")]
    assert inbox(street_supervisor) == []

    sla_sweep(now=T0 + 180 * MINUTE)
    street = SlaEvent.objects.get(clock=clock, kind=SlaEvent.Kind.ESCALATION, level=3)
    assert inbox(street_supervisor) == [("grievance.sla_escalation", f"sla-event:{street.pk}")]
    top = SlaClock.objects.get(pk=clock.pk)
    assert (top.escalation_level, top.escalate_at) == (3, None)

    # Later passes find nothing to say; every person heard each rung once.
    assert sla_due_count(now=T0 + dt.timedelta(days=2)) == 0
    sla_sweep(now=T0 + dt.timedelta(days=2))
    assert [len(inbox(user)) for user in everyone] == [2, 1, 1, 1, 0]
    assert SlaEvent.objects.filter(clock=clock).count() == 4
    assert (
        TimelineEvent.objects.filter(grievance=grievance, kind=TimelineEvent.Kind.ESCALATED).count()
        == 2
    )


def test_a_person_handling_it_is_warned_rather_than_their_company(
    world: Any, property_staff: Any
) -> None:
    handler = UserFactory(name="陈师傅")
    resolve_in_an_hour(world, handler_organization=world.property_company, handler_user=handler)
    sla_sweep(now=T0 + 50 * MINUTE)
    assert [kind for kind, _ref in inbox(handler)] == ["grievance.sla_warning"]
    assert inbox(property_staff) == []


def test_without_a_handler_the_community_office_is_warned(world: Any, staff: Any) -> None:
    resolve_in_an_hour(world)
    sla_sweep(now=T0 + 50 * MINUTE)
    assert [kind for kind, _ref in inbox(staff)] == ["grievance.sla_warning"]


def test_an_inactive_member_is_not_notified(world: Any, property_staff: Any) -> None:
    Membership.objects.filter(user=property_staff).update(is_active=False)
    resolve_in_an_hour(world, handler_organization=world.property_company)
    sla_sweep(now=T0 + 50 * MINUTE)
    assert inbox(property_staff) == []


def test_a_sweep_run_twice_records_and_tells_nothing_twice(
    world: Any, property_staff: Any, grid_worker: Any
) -> None:
    _grievance, clock = resolve_in_an_hour(world, handler_organization=world.property_company)
    first = sla_sweep(now=T0 + 61 * MINUTE)
    again = sla_sweep(now=T0 + 61 * MINUTE)
    # Past due before it was ever warned: the breach is said, not a stale "due soon".
    assert (first.warnings, first.breaches, first.notifications) == (0, 1, 2)
    assert (again.warnings, again.breaches, again.notifications) == (0, 0, 0)
    assert SlaEvent.objects.filter(clock=clock).count() == 1
    assert SlaClock.objects.get(pk=clock.pk).warned_at == T0 + 61 * MINUTE
    assert len(inbox(property_staff)) == len(inbox(grid_worker)) == 1


def test_after_an_outage_every_rung_already_due_is_climbed_in_one_pass(
    world: Any, staff: Any, street_supervisor: Any
) -> None:
    _grievance, clock = resolve_in_an_hour(world)
    result = sla_sweep(now=T0 + 5 * 60 * MINUTE)
    assert (result.warnings, result.breaches, result.escalations) == (0, 1, 2)
    assert set(SlaEvent.objects.filter(clock=clock).values_list("kind", "level")) == {
        ("breach", 1),
        ("escalation", 2),
        ("escalation", 3),
    }
    assert len(inbox(street_supervisor)) == 1
    # The office hears the breach (no handler) and its own rung: two events, two messages.
    assert len(inbox(staff)) == 2


def test_a_working_day_clock_climbs_one_rung_per_working_day(world: Any, staff: Any) -> None:
    spec = SlaClockSpecFactory(
        kind=SlaClockSpec.Kind.REPAIR_MEDIUM,
        calendar=SlaClockSpec.Calendar.WORKING_DAYS,
        target_minutes=None,
        target_days=2,
    )
    category = SlaCategoryFactory(sla_policy=spec.policy)
    grievance = SlaGrievanceFactory(community=world.home, category=category)
    # Thursday 5 March: due Monday 9 March 23:59; office rung Tuesday 23:59.
    start = dt.datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI)
    [clock] = clocks_on_trigger(grievance=grievance, trigger=Trigger.DISPATCH_ACCEPTED, now=start)
    assert clock.due_at == dt.datetime(2026, 3, 9, 23, 59, tzinfo=SHANGHAI)
    sla_sweep(now=dt.datetime(2026, 3, 10, 0, 0, tzinfo=SHANGHAI))
    assert SlaClock.objects.get(pk=clock.pk).escalate_at == dt.datetime(
        2026, 3, 10, 23, 59, tzinfo=SHANGHAI
    )


def test_the_sweep_works_through_every_batch(world: Any) -> None:
    spec = SlaClockSpecFactory(warn_percent=0)
    category = SlaCategoryFactory(sla_policy=spec.policy)
    clocks = [
        running_clock(
            SlaGrievanceFactory(community=world.home, category=category),
            spec,
            started_at=T0 - dt.timedelta(minutes=index),
        )
        for index in range(7)
    ]
    result = sla_sweep(now=T0 + 2 * 60 * MINUTE, batch_size=3)
    assert result.breaches == 7
    assert result.complete
    assert SlaEvent.objects.filter(kind="breach").count() == len(clocks)


def test_a_pass_out_of_budget_leaves_the_rest_to_the_next_pass(world: Any) -> None:
    spec = SlaClockSpecFactory(warn_percent=0)
    category = SlaCategoryFactory(sla_policy=spec.policy)
    for index in range(5):
        running_clock(
            SlaGrievanceFactory(community=world.home, category=category),
            spec,
            started_at=T0 + dt.timedelta(minutes=index),
        )
    now = T0 + 3 * 60 * MINUTE
    partial = sla_sweep(now=now, batch_size=2, max_batches=1)
    assert (partial.breaches, partial.complete) == (2, False)
    # Oldest due first.
    assert set(
        SlaClock.objects.filter(breached_at__isnull=False).values_list("started_at", flat=True)
    ) == {T0, T0 + MINUTE}
    rest = sla_sweep(now=now, batch_size=2)
    assert rest.breaches == 3
    assert SlaEvent.objects.filter(kind="breach").count() == 5


def test_the_periodic_task_sweeps_at_the_current_time(world: Any, staff: Any) -> None:
    spec = SlaClockSpecFactory(warn_percent=0, target_minutes=10)
    category = SlaCategoryFactory(sla_policy=spec.policy)
    clock = running_clock(
        SlaGrievanceFactory(community=world.home, category=category),
        spec,
        started_at=timezone.now() - dt.timedelta(minutes=11),
    )
    counts = sla_sweep_task.delay().get()
    assert counts["breaches"] == 1
    assert SlaEvent.objects.filter(clock=clock, kind="breach").count() == 1
    assert len(inbox(staff)) == 1


def test_the_embedded_loop_runs_the_sweep_every_ten_seconds(world: Any, settings: Any) -> None:
    entry = {"task": "grievances.tasks.sla_sweep_task", "every": 10}
    assert settings.LINLI_PERIODIC_TASKS["grievances-sla-sweep"] == entry
    settings.LINLI_PERIODIC_TASKS = {"grievances-sla-sweep": entry}
    spec = SlaClockSpecFactory(warn_percent=0, target_minutes=10)
    category = SlaCategoryFactory(sla_policy=spec.policy)
    clock = running_clock(
        SlaGrievanceFactory(community=world.home, category=category),
        spec,
        started_at=timezone.now() - dt.timedelta(minutes=11),
    )
    assert run_due({}, 100.0) == ["grievances-sla-sweep"]
    assert run_due({"grievances-sla-sweep": 100.0}, 105.0) == []
    assert SlaEvent.objects.filter(clock=clock, kind="breach").count() == 1
