"""Clocks with a controlled clock: start on the trigger, stop, pause, resume, cancel, extend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from grievances.models import (
    Grievance,
    SlaClock,
    SlaClockSpec,
    SlaEvent,
    Tier,
    TimelineEvent,
    Trigger,
)
from grievances.sla.clocks import (
    clock_extend,
    clock_is_overdue,
    clock_time_left,
    clocks_cancel,
    clocks_on_trigger,
    clocks_pause,
    clocks_resume,
    policy_for,
)
from grievances.sla.policies import POLICY_1715, POLICY_REPAIR, sla_policies_install
from grievances.sla.sweep import sla_sweep
from grievances.tests.factories_sla import (
    SlaCategoryFactory,
    SlaClockSpecFactory,
    SlaGrievanceFactory,
)

pytestmark = pytest.mark.django_db

SHANGHAI = timezone.get_default_timezone()
# Monday 2 March 2026, 10:00 in Shanghai.
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
MINUTE = dt.timedelta(minutes=1)
Kind = SlaClockSpec.Kind
State = SlaClock.State


def grievance_with(policy_code: str, tier: str, world: Any) -> Grievance:
    policies = sla_policies_install()
    category = SlaCategoryFactory(sla_policy=policies[policy_code])
    return SlaGrievanceFactory.create(
        community=world.home, building=world.building_a, category=category, tier=tier
    )


def accept(grievance: Grievance, now: dt.datetime = T0) -> dict[str, SlaClock]:
    started = clocks_on_trigger(grievance=grievance, trigger=Trigger.DISPATCH_ACCEPTED, now=now)
    return {clock.kind: clock for clock in started}


def fresh(clock: SlaClock) -> SlaClock:
    return SlaClock.objects.get(pk=clock.pk)


@pytest.mark.parametrize(
    ("policy", "tier", "kinds"),
    [
        (POLICY_1715, Tier.ROUTINE, {Kind.ARRIVE, Kind.RESOLVE}),
        (POLICY_1715, Tier.COMPLEX, {Kind.ARRIVE, Kind.PLAN}),
        (POLICY_REPAIR, Tier.REPAIR_MINOR, {Kind.ARRIVE, Kind.REPAIR_MINOR}),
        (POLICY_REPAIR, Tier.REPAIR_MEDIUM, {Kind.ARRIVE, Kind.REPAIR_MEDIUM}),
        (POLICY_REPAIR, Tier.REPAIR_MAJOR, {Kind.ARRIVE, Kind.REPAIR_MAJOR}),
        (POLICY_REPAIR, Tier.ROUTINE, {Kind.ARRIVE, Kind.RESOLVE}),
    ],
)
def test_acceptance_starts_the_clocks_of_the_tier(
    world: Any, policy: str, tier: str, kinds: set[str]
) -> None:
    grievance = grievance_with(policy, tier, world)
    assert clocks_on_trigger(grievance=grievance, trigger=Trigger.SUBMITTED, now=T0) == []
    started = accept(grievance)
    assert set(started) == kinds
    assert all(
        clock.state == State.RUNNING and clock.started_at == T0 for clock in started.values()
    )
    assert set(SlaClock.objects.filter(grievance=grievance).values_list("kind", flat=True)) == kinds
    # Each start is a line on the timeline, with the due time people read.
    lines = TimelineEvent.objects.filter(grievance=grievance, kind=TimelineEvent.Kind.CLOCK)
    assert lines.count() == len(kinds)


@pytest.mark.parametrize(
    ("tier", "kind", "due", "warn"),
    [
        (Tier.ROUTINE, Kind.ARRIVE, T0 + 10 * MINUTE, T0 + 7 * MINUTE),
        (Tier.ROUTINE, Kind.RESOLVE, T0 + 60 * MINUTE, T0 + 48 * MINUTE),
        (Tier.COMPLEX, Kind.PLAN, T0 + dt.timedelta(days=1), T0 + 1152 * MINUTE),
        (Tier.REPAIR_MINOR, Kind.REPAIR_MINOR, T0 + dt.timedelta(days=1), T0 + 1152 * MINUTE),
        # Monday 10:00 + 7 working days: Tuesday 3rd … Wednesday 11th, 23:59; the warning
        # at 80 % (5.6 working days) is 14:24 on the 6th working day (Tuesday 10th).
        (
            Tier.REPAIR_MEDIUM,
            Kind.REPAIR_MEDIUM,
            dt.datetime(2026, 3, 11, 23, 59, tzinfo=SHANGHAI),
            dt.datetime(2026, 3, 10, 14, 24, tzinfo=SHANGHAI),
        ),
        (
            Tier.REPAIR_MAJOR,
            Kind.REPAIR_MAJOR,
            dt.datetime(2026, 3, 23, 23, 59, tzinfo=SHANGHAI),
            # 80 % of 15 is exactly 12 working days: the end of the 12th.
            dt.datetime(2026, 3, 18, 23, 59, tzinfo=SHANGHAI),
        ),
    ],
)
def test_each_clock_warns_breaches_and_is_met(
    world: Any, tier: str, kind: str, due: dt.datetime, warn: dt.datetime
) -> None:
    policy = POLICY_1715 if tier in (Tier.ROUTINE, Tier.COMPLEX) else POLICY_REPAIR
    grievance = grievance_with(policy, tier, world)
    clock = accept(grievance)[kind]
    assert (clock.due_at, clock.warn_at) == (due, warn)

    sla_sweep(now=warn - MINUTE)
    assert not SlaEvent.objects.filter(clock=clock).exists()
    sla_sweep(now=warn)
    assert list(SlaEvent.objects.filter(clock=clock).values_list("kind", flat=True)) == ["warning"]
    # Exactly at the due time is still on time.
    sla_sweep(now=due)
    assert fresh(clock).breached_at is None
    sla_sweep(now=due + dt.timedelta(seconds=1))
    breached = fresh(clock)
    assert breached.breached_at == due + dt.timedelta(seconds=1)
    assert clock_is_overdue(breached, due + MINUTE)
    assert set(SlaEvent.objects.filter(clock=clock).values_list("kind", flat=True)) == {
        "warning",
        "breach",
    }

    trigger = Trigger.ON_SITE if kind == Kind.ARRIVE else Trigger.RESOLVED
    clocks_on_trigger(grievance=grievance, trigger=trigger, now=due + 5 * MINUTE)
    met = fresh(clock)
    assert met.state == State.STOPPED
    assert met.met_at == due + 5 * MINUTE
    assert clock_time_left(met, due + 6 * MINUTE) is None
    assert not clock_is_overdue(met, due + 6 * MINUTE)


def test_the_plan_clock_stops_when_the_plan_is_submitted(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.COMPLEX, world)
    clocks = accept(grievance)
    clocks_on_trigger(grievance=grievance, trigger=Trigger.ON_SITE, now=T0 + 8 * MINUTE)
    clocks_on_trigger(grievance=grievance, trigger=Trigger.PLAN_SUBMITTED, now=T0 + 3 * 60 * MINUTE)
    arrive, plan = fresh(clocks[Kind.ARRIVE]), fresh(clocks[Kind.PLAN])
    assert (arrive.state, arrive.met_at, arrive.breached_at) == (
        State.STOPPED,
        T0 + 8 * MINUTE,
        None,
    )
    assert (plan.state, plan.met_at, plan.breached_at) == (
        State.STOPPED,
        T0 + 3 * 60 * MINUTE,
        None,
    )


def test_editing_the_policy_after_the_start_does_not_move_a_running_clock(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    resolve = accept(grievance)[Kind.RESOLVE]
    spec = SlaClockSpec.objects.get(policy__code=POLICY_1715, kind=Kind.RESOLVE)
    spec.target_minutes = 5
    spec.warn_percent = 10
    spec.stop_on = [Trigger.ON_SITE]
    spec.pauses_while_waiting = False
    spec.save()

    clock = fresh(resolve)
    assert (clock.due_at, clock.warn_at) == (T0 + 60 * MINUTE, T0 + 48 * MINUTE)
    # The snapshot's triggers still rule: arriving does not stop the resolve clock …
    clocks_on_trigger(grievance=grievance, trigger=Trigger.ON_SITE, now=T0 + 9 * MINUTE)
    assert fresh(clock).state == State.RUNNING
    # … and it still pauses while waiting, as it did when it started.
    clocks_pause(grievance=grievance, now=T0 + 10 * MINUTE)
    assert fresh(clock).state == State.PAUSED
    # A grievance accepted after the edit gets the new promise.
    later = SlaGrievanceFactory(
        community=world.home, category=grievance.category, tier=Tier.ROUTINE
    )
    assert accept(later, T0)[Kind.RESOLVE].due_at == T0 + 5 * MINUTE


def test_pause_moves_the_due_time_by_exactly_the_paused_time(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    clocks = accept(grievance)
    resolve, arrive = clocks[Kind.RESOLVE], clocks[Kind.ARRIVE]
    paused_for = dt.timedelta(hours=3, minutes=7, seconds=5, microseconds=123457)

    clocks_pause(grievance=grievance, now=T0 + 20 * MINUTE, reason="等待业主回家")
    paused = fresh(resolve)
    assert paused.state == State.PAUSED
    # Frozen while paused: the time left does not run down.
    assert clock_time_left(paused, T0 + 2 * 60 * MINUTE) == 40 * MINUTE
    assert not clock_is_overdue(paused, T0 + 5 * 60 * MINUTE)
    # The arrive clock does not pause while waiting.
    assert fresh(arrive).state == State.RUNNING

    clocks_resume(grievance=grievance, now=T0 + 20 * MINUTE + paused_for)
    resumed = fresh(resolve)
    assert resumed.state == State.RUNNING
    assert resumed.due_at == T0 + 60 * MINUTE + paused_for
    assert resumed.warn_at == T0 + 48 * MINUTE + paused_for
    assert resumed.paused_total == paused_for
    assert resumed.paused_at is None

    # A second pause adds up.
    clocks_pause(grievance=grievance, now=T0 + 4 * 60 * MINUTE)
    clocks_resume(grievance=grievance, now=T0 + 4 * 60 * MINUTE + dt.timedelta(microseconds=1))
    again = fresh(resolve)
    assert again.paused_total == paused_for + dt.timedelta(microseconds=1)
    assert again.due_at == T0 + 60 * MINUTE + paused_for + dt.timedelta(microseconds=1)

    notes = list(
        TimelineEvent.objects.filter(grievance=grievance, kind=TimelineEvent.Kind.CLOCK)
        .order_by("at", "pk")
        .values_list("old_value", "new_value")
    )
    assert ("running", "paused") in notes
    assert ("2026-03-02 11:00", "2026-03-02 14:07") in notes


def test_a_paused_clock_is_never_swept(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    resolve = accept(grievance)[Kind.RESOLVE]
    clocks_pause(grievance=grievance, now=T0 + 5 * MINUTE)
    sla_sweep(now=T0 + 10 * 60 * MINUTE)
    assert not SlaEvent.objects.filter(clock=resolve).exists()
    assert fresh(resolve).breached_at is None


def test_the_escalation_time_moves_with_a_pause(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    resolve = accept(grievance)[Kind.RESOLVE]
    sla_sweep(now=T0 + 61 * MINUTE)
    escalate_at = fresh(resolve).escalate_at
    assert escalate_at == T0 + 120 * MINUTE
    clocks_pause(grievance=grievance, now=T0 + 70 * MINUTE)
    clocks_resume(grievance=grievance, now=T0 + 100 * MINUTE)
    assert fresh(resolve).escalate_at == escalate_at + 30 * MINUTE


def test_a_cancelled_clock_never_breaches(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    clocks = accept(grievance)
    clocks_pause(grievance=grievance, now=T0 + 5 * MINUTE)
    clocks_cancel(grievance=grievance, now=T0 + 6 * MINUTE)
    assert {fresh(c).state for c in clocks.values()} == {State.CANCELLED}
    sla_sweep(now=T0 + dt.timedelta(days=3))
    assert not SlaEvent.objects.filter(clock__grievance=grievance).exists()
    assert all(clock_time_left(fresh(c), T0) is None for c in clocks.values())


def test_a_clock_met_on_time_never_breaches(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    clocks = accept(grievance)
    clocks_on_trigger(grievance=grievance, trigger=Trigger.ON_SITE, now=T0 + 10 * MINUTE)
    clocks_on_trigger(grievance=grievance, trigger=Trigger.RESOLVED, now=T0 + 59 * MINUTE)
    sla_sweep(now=T0 + dt.timedelta(days=3))
    assert not SlaEvent.objects.filter(clock__grievance=grievance).exists()
    assert all(fresh(c).breached_at is None for c in clocks.values())


def test_a_late_stop_records_the_breach_once_even_if_the_sweep_never_ran(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    arrive = accept(grievance)[Kind.ARRIVE]
    clocks_on_trigger(grievance=grievance, trigger=Trigger.ON_SITE, now=T0 + 25 * MINUTE)
    late = fresh(arrive)
    assert late.state == State.STOPPED
    assert late.breached_at == T0 + 25 * MINUTE
    breach = SlaEvent.objects.get(clock=arrive)
    assert (breach.kind, breach.level, breach.due_at) == ("breach", 1, T0 + 10 * MINUTE)
    sla_sweep(now=T0 + 30 * MINUTE)
    assert SlaEvent.objects.filter(clock=arrive).count() == 1


def test_a_late_stop_after_the_sweep_does_not_record_the_breach_twice(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    arrive = accept(grievance)[Kind.ARRIVE]
    sla_sweep(now=T0 + 11 * MINUTE)
    swept = fresh(arrive).breached_at
    clocks_on_trigger(grievance=grievance, trigger=Trigger.ON_SITE, now=T0 + 25 * MINUTE)
    assert fresh(arrive).breached_at == swept
    assert SlaEvent.objects.filter(clock=arrive, kind="breach").count() == 1


def test_a_clock_stopped_while_paused_is_judged_on_its_moved_due_time(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    resolve = accept(grievance)[Kind.RESOLVE]
    clocks_pause(grievance=grievance, now=T0 + 50 * MINUTE)
    # Resolved 2 hours later, while still waiting: only 50 of its 60 minutes ran.
    clocks_on_trigger(grievance=grievance, trigger=Trigger.RESOLVED, now=T0 + 170 * MINUTE)
    stopped = fresh(resolve)
    assert stopped.state == State.STOPPED
    assert stopped.breached_at is None
    assert stopped.paused_total == 120 * MINUTE
    assert not SlaEvent.objects.filter(clock=resolve).exists()


def test_reopening_starts_new_clocks_beside_the_stopped_ones(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    accept(grievance)
    clocks_on_trigger(grievance=grievance, trigger=Trigger.ON_SITE, now=T0 + 5 * MINUTE)
    clocks_on_trigger(grievance=grievance, trigger=Trigger.RESOLVED, now=T0 + 30 * MINUTE)
    again = accept(grievance, T0 + dt.timedelta(days=1))
    assert set(again) == {Kind.ARRIVE, Kind.RESOLVE}
    assert SlaClock.objects.filter(grievance=grievance).count() == 4
    # Accepting twice in a row does not start a second live clock of a kind.
    assert accept(grievance, T0 + dt.timedelta(days=1, minutes=1)) == {}


def test_an_extension_of_a_working_day_clock_skips_holidays(world: Any) -> None:
    grievance = grievance_with(POLICY_REPAIR, Tier.REPAIR_MEDIUM, world)
    # Accepted Wednesday 23 September 2026. Working days after it: 09-24, 09-28, 09-29,
    # 09-30, 10-08, 10-09 and the make-up Saturday 10-10 (Mid-autumn 25–27 September and
    # National Day 1–7 October are skipped).
    start = dt.datetime(2026, 9, 23, 9, 0, tzinfo=SHANGHAI)
    repair = accept(grievance, start)[Kind.REPAIR_MEDIUM]
    assert repair.due_at == dt.datetime(2026, 10, 10, 23, 59, tzinfo=SHANGHAI)
    warn_at = repair.warn_at
    assert warn_at is not None
    clock_extend(clock=repair, extra_minutes=None, extra_days=2, now=start)
    extended = fresh(repair)
    # Sunday 10-11 is skipped: 10-12 and 10-13.
    assert extended.due_at == dt.datetime(2026, 10, 13, 23, 59, tzinfo=SHANGHAI)
    assert extended.extensions == 1
    assert extended.warn_at == warn_at + dt.timedelta(days=3)
    # The caller's instance is brought up to date too.
    assert repair.due_at == extended.due_at
    line = TimelineEvent.objects.filter(grievance=grievance).order_by("pk").last()
    assert line is not None
    assert (line.old_value, line.new_value) == ("2026-10-10 23:59", "2026-10-13 23:59")


def test_an_extension_lets_a_warned_clock_warn_again_before_the_new_due_time(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    resolve = accept(grievance)[Kind.RESOLVE]
    sla_sweep(now=T0 + 50 * MINUTE)
    clock_extend(clock=resolve, extra_minutes=30, extra_days=None, now=T0 + 55 * MINUTE)
    extended = fresh(resolve)
    assert (extended.due_at, extended.warn_at) == (T0 + 90 * MINUTE, T0 + 78 * MINUTE)
    sla_sweep(now=T0 + 79 * MINUTE)
    warnings = SlaEvent.objects.filter(clock=resolve, kind="warning")
    assert sorted(warnings.values_list("level", flat=True)) == [0, 1]
    sla_sweep(now=T0 + 89 * MINUTE)
    assert fresh(resolve).breached_at is None


def test_a_stopped_clock_cannot_be_extended(world: Any) -> None:
    grievance = grievance_with(POLICY_1715, Tier.ROUTINE, world)
    resolve = accept(grievance)[Kind.RESOLVE]
    clocks_on_trigger(grievance=grievance, trigger=Trigger.RESOLVED, now=T0 + MINUTE)
    with pytest.raises(ValueError):
        clock_extend(clock=resolve, extra_minutes=30, extra_days=None)


def test_a_subcategory_without_a_policy_uses_its_parents(world: Any) -> None:
    parent = SlaCategoryFactory()
    child = SlaCategoryFactory(parent=parent, sla_policy=None)
    assert policy_for(child) == parent.sla_policy
    orphan = SlaCategoryFactory(sla_policy=None)
    assert policy_for(orphan) is None
    grievance = SlaGrievanceFactory(community=world.home, category=orphan)
    assert accept(grievance) == {}


def test_a_spec_for_every_tier_applies_to_every_tier(world: Any) -> None:
    spec = SlaClockSpecFactory(kind=Kind.ARRIVE, tier="", target_minutes=15)
    category = SlaCategoryFactory(sla_policy=spec.policy)
    for tier in Tier.values:
        grievance = SlaGrievanceFactory(community=world.home, category=category, tier=tier)
        assert set(accept(grievance)) == {Kind.ARRIVE}
