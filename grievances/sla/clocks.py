"""The clocks of a grievance: start, stop, pause, resume, cancel, extend (DESIGN §5).

The workflow services call these helpers inside their own durable transaction, with the
grievance row already locked, so two moves of one grievance never race here; each helper
still locks the clock rows it changes (the sweep may hold one: it skips locked rows, and
its compare-and-set on a row this code has changed finds nothing to do).

A clock starts by copying its spec into SlaClock.spec (the snapshot): due_at and warn_at
are computed from the copy, and every later step (stop triggers, pausing, extensions,
the escalation interval) reads the copy, never the policy, so editing a policy never
moves a running promise.

Pausing (waiting for the resident, parts on order) freezes clocks whose spec pauses while
waiting; resuming moves due_at, warn_at and escalate_at forward by exactly the time spent
paused (Zammad / Znuny's escalation-suspend semantics) and adds it to paused_total.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from grievances.models import (
    Category,
    Grievance,
    SlaClock,
    SlaClockSpec,
    SlaEvent,
    SlaPolicy,
    Trigger,
)
from grievances.sla.calendar import (
    MINUTES_PER_WORKING_DAY,
    WorkdayCalendar,
    add_working_days,
    end_of_day,
    local_date,
    working_days_point,
)
from grievances.sla.events import (
    EventRow,
    clock_label,
    local_minute,
    sla_events_insert,
    timeline_line,
    timeline_write,
    ui_language,
)

State = SlaClock.State
LIVE_STATES = (State.RUNNING, State.PAUSED)
#: Bumped when the snapshot's shape changes, so old rows can still be read.
SNAPSHOT_VERSION = 1


# --- the snapshot -----------------------------------------------------------------------


def spec_snapshot(spec: SlaClockSpec) -> dict[str, Any]:
    """Everything a running clock needs later, copied from its policy's spec."""
    return {
        "version": SNAPSHOT_VERSION,
        "policy": spec.policy.code,
        "kind": spec.kind,
        "tier": spec.tier,
        "calendar": spec.calendar,
        "target_minutes": spec.target_minutes,
        "target_days": spec.target_days,
        "warn_percent": spec.warn_percent,
        "start_on": spec.start_on,
        "stop_on": [str(trigger) for trigger in spec.stop_on],
        "pauses_while_waiting": spec.pauses_while_waiting,
    }


def clock_deadlines(
    spec: Mapping[str, Any], start: dt.datetime
) -> tuple[dt.datetime, dt.datetime | None]:
    """(due_at, warn_at) of a clock starting at `start`, from its snapshot.

    24×7 clocks: target minutes after the start, warning at warn_percent of that.
    Working-day clocks: the end of the N-th working day after the start's date, warning at
    warn_percent of the working-day time (grievances.sla.calendar). warn_percent 0 means
    no warning.
    """
    percent = int(spec.get("warn_percent") or 0)
    if spec["calendar"] == SlaClockSpec.Calendar.WORKING_DAYS:
        days = int(spec["target_days"])
        due = add_working_days(start, days)
        warn = working_days_point(start, days, percent) if percent else None
    else:
        target = dt.timedelta(minutes=int(spec["target_minutes"]))
        due = start + target
        warn = start + target * percent // 100 if percent else None
    return due, warn


def policy_for(category: Category) -> SlaPolicy | None:
    """The SLA policy of a category, or its parent's when it has none of its own."""
    if category.sla_policy_id:
        return category.sla_policy
    if category.parent_id:
        return category.parent.sla_policy  # type: ignore[union-attr]
    return None


# --- pure functions for pages (no queries) ------------------------------------------------


def clock_time_left(clock: SlaClock, now: dt.datetime) -> dt.timedelta | None:
    """Time until the clock is due: negative when overdue, frozen while paused, None once
    it stopped or was cancelled."""
    if clock.state == State.RUNNING:
        return clock.due_at - now
    if clock.state == State.PAUSED:
        return clock.due_at - (clock.paused_at or now)
    return None


def clock_is_overdue(clock: SlaClock, now: dt.datetime) -> bool:
    """Whether a live clock is past its due time (a stopped clock is never "overdue")."""
    left = clock_time_left(clock, now)
    return left is not None and left < dt.timedelta(0)


# --- helpers the workflow services call ---------------------------------------------------


def _specs_starting(category: Category, trigger: str) -> list[SlaClockSpec]:
    """The specs of the category's policy (or its parent's) that start on `trigger`, with
    their policy, in one query (none when the category was read knowing that its policy
    starts nothing on submission: `filing_categories`)."""
    if (
        trigger == Trigger.SUBMITTED
        and getattr(category, "clocks_start_on_submitted", True) is False
    ):
        return []
    specs = SlaClockSpec.objects.filter(start_on=trigger).select_related("policy")
    if category.sla_policy_id:
        specs = specs.filter(policy_id=category.sla_policy_id)
    elif category.parent_id and Category.parent.is_cached(category):
        assert category.parent is not None
        specs = specs.filter(policy_id=category.parent.sla_policy_id)
    elif category.parent_id:
        parent_policy = Category.objects.filter(pk=category.parent_id).values("sla_policy_id")
        specs = specs.filter(policy_id=Subquery(parent_policy))
    else:
        return []
    return list(specs.order_by("pk"))


def _live_clocks(grievance: Grievance) -> list[SlaClock]:
    """The grievance's running and paused clocks, locked, in pk order."""
    return list(
        SlaClock.objects.select_for_update()
        .filter(grievance=grievance, state__in=LIVE_STATES)
        .order_by("pk")
    )


def _unpause(clock: SlaClock, now: dt.datetime) -> dict[str, Any]:
    """The fields that move a paused clock's deadlines on by the time it was paused."""
    assert clock.paused_at is not None
    paused = now - clock.paused_at
    fields: dict[str, Any] = {
        "due_at": clock.due_at + paused,
        "paused_total": clock.paused_total + paused,
        "paused_at": None,
    }
    if clock.warn_at is not None:
        fields["warn_at"] = clock.warn_at + paused
    if clock.escalate_at is not None:
        fields["escalate_at"] = clock.escalate_at + paused
    return fields


def _compare_and_set(clock: SlaClock, **fields: Any) -> bool:
    """Write `fields` if the clock is still in the state it was read in; update the instance."""
    changed = SlaClock.objects.filter(pk=clock.pk, state=clock.state).update(**fields)
    if changed != 1:
        return False
    for name, value in fields.items():
        setattr(clock, name, value)
    return True


def _stop(clock: SlaClock, *, now: dt.datetime, actor: Any) -> None:
    """Stop a live clock because its goal was met; a late stop records the breach once."""
    fields: dict[str, Any] = _unpause(clock, now) if clock.state == State.PAUSED else {}
    due_at = fields.get("due_at", clock.due_at)
    late = now > due_at
    newly_breached = late and clock.breached_at is None
    fields.update(state=State.STOPPED, met_at=now, escalate_at=None)
    if newly_breached:
        fields["breached_at"] = now
    if not _compare_and_set(clock, **fields):
        return
    if newly_breached:
        # The same row the sweep would have written (unique per clock, kind, level): a
        # clock the sweep never saw late still counts as breached in every KPI, and one
        # the sweep did see is not counted twice.
        sla_events_insert(
            [EventRow(clock.pk, SlaEvent.Kind.BREACH, 1, due_at)],
            now=now,
        )
    with ui_language():
        if late:
            note = _("%(clock)s met late (due %(due)s).") % {
                "clock": clock_label(clock),
                "due": local_minute(due_at),
            }
        else:
            note = _("%(clock)s met on time.") % {"clock": clock_label(clock)}
    timeline_write(
        [
            timeline_line(
                grievance_id=clock.grievance_id,
                at=now,
                actor=actor,
                old=local_minute(due_at),
                new=local_minute(now),
                note=note,
                public=True,
            )
        ]
    )


def _start(
    grievance: Grievance, spec: SlaClockSpec, *, now: dt.datetime, actor: Any
) -> SlaClock | None:
    """Start one clock from its spec, unless one of that kind is already live."""
    if SlaClock.objects.filter(grievance=grievance, kind=spec.kind, state__in=LIVE_STATES).exists():
        return None
    snapshot = spec_snapshot(spec)
    due_at, warn_at = clock_deadlines(snapshot, now)
    clock = SlaClock.objects.create(
        grievance=grievance,
        kind=spec.kind,
        policy=spec.policy,
        spec=snapshot,
        state=State.RUNNING,
        started_at=now,
        due_at=due_at,
        warn_at=warn_at,
    )
    with ui_language():
        note = _("%(clock)s started: due %(due)s.") % {
            "clock": clock_label(clock),
            "due": local_minute(due_at),
        }
    timeline_write(
        [
            timeline_line(
                grievance_id=grievance.pk,
                at=now,
                actor=actor,
                new=local_minute(due_at),
                note=note,
                public=True,
            )
        ]
    )
    return clock


def clocks_on_trigger(
    *, grievance: Grievance, trigger: str, now: dt.datetime, actor: Any = None
) -> list[SlaClock]:
    """Stop the live clocks whose snapshot stops on `trigger`, then start the policy's clocks
    that start on it and apply to the grievance's tier; return the clocks started."""
    with transaction.atomic(savepoint=False):
        # A grievance is submitted once, when it is filed: no clock can be live yet.
        if trigger != Trigger.SUBMITTED:
            for clock in _live_clocks(grievance):
                if trigger in clock.spec.get("stop_on", []):
                    _stop(clock, now=now, actor=actor)
        started = []
        for spec in _specs_starting(grievance.category, trigger):
            if spec.tier and spec.tier != grievance.tier:
                continue
            new_clock = _start(grievance, spec, now=now, actor=actor)
            if new_clock is not None:
                started.append(new_clock)
        return started


def clocks_pause(
    *, grievance: Grievance, now: dt.datetime, actor: Any = None, reason: str = ""
) -> None:
    """Freeze the running clocks that pause while waiting (the grievance became waiting)."""
    with transaction.atomic(savepoint=False):
        lines = []
        for clock in _live_clocks(grievance):
            if clock.state != State.RUNNING or not clock.spec.get("pauses_while_waiting"):
                continue
            if not _compare_and_set(clock, state=State.PAUSED, paused_at=now):
                continue
            with ui_language():
                note = _("%(clock)s paused.") % {"clock": clock_label(clock)}
                if reason:
                    note = f"{note} {reason}"
            lines.append(
                timeline_line(
                    grievance_id=grievance.pk,
                    at=now,
                    actor=actor,
                    old=State.RUNNING,
                    new=State.PAUSED,
                    note=note,
                    public=True,
                )
            )
        timeline_write(lines)


def clocks_resume(*, grievance: Grievance, now: dt.datetime, actor: Any = None) -> None:
    """Restart the paused clocks; their due, warning and escalation times move forward by
    exactly the time they were paused."""
    with transaction.atomic(savepoint=False):
        lines = []
        for clock in _live_clocks(grievance):
            if clock.state != State.PAUSED:
                continue
            old_due = clock.due_at
            fields = _unpause(clock, now)
            if not _compare_and_set(clock, state=State.RUNNING, **fields):
                continue
            with ui_language():
                note = _("%(clock)s resumed after %(paused)s; now due %(due)s.") % {
                    "clock": clock_label(clock),
                    "paused": span_text(fields["due_at"] - old_due, round_up=False),
                    "due": local_minute(clock.due_at),
                }
            lines.append(
                timeline_line(
                    grievance_id=grievance.pk,
                    at=now,
                    actor=actor,
                    old=local_minute(old_due),
                    new=local_minute(clock.due_at),
                    note=note,
                    public=True,
                )
            )
        timeline_write(lines)


def clocks_cancel(*, grievance: Grievance, now: dt.datetime, actor: Any = None) -> None:
    """Cancel the live clocks (rejected, merged): they never warn or breach afterwards."""
    with transaction.atomic(savepoint=False):
        lines = []
        for clock in _live_clocks(grievance):
            old_state = clock.state
            if not _compare_and_set(clock, state=State.CANCELLED, paused_at=None, escalate_at=None):
                continue
            with ui_language():
                note = _("%(clock)s cancelled.") % {"clock": clock_label(clock)}
            lines.append(
                timeline_line(
                    grievance_id=grievance.pk,
                    at=now,
                    actor=actor,
                    old=old_state,
                    new=State.CANCELLED,
                    note=note,
                )
            )
        timeline_write(lines)


def clock_extend(
    *,
    clock: SlaClock,
    extra_minutes: int | None,
    extra_days: int | None,
    now: dt.datetime | None = None,
    actor: Any = None,
) -> None:
    """Grant more time on a live clock (an approved 延期): move its due time in the clock's
    own calendar, its warning point with it, and count the extension.

    Working-day clocks add `extra_days` working days after the old due date (and any
    `extra_minutes` as plain time); 24×7 clocks add both as plain time. A clock that had
    already warned warns again before the new due time (the warning event's level is the
    extension round). A breach already recorded stays recorded; the escalation ladder
    waits until the new due time.
    """
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        locked = SlaClock.objects.select_for_update().get(pk=clock.pk)
        if locked.state not in LIVE_STATES:
            raise ValueError("only a running or paused clock can be extended")
        new_due = _extended(locked, extra_minutes=extra_minutes or 0, extra_days=extra_days or 0)
        shift = new_due - locked.due_at
        fields: dict[str, Any] = {"due_at": new_due, "extensions": locked.extensions + 1}
        if locked.warn_at is not None:
            fields["warn_at"] = locked.warn_at + shift
            if locked.breached_at is None:
                fields["warned_at"] = None
        if locked.escalate_at is not None:
            fields["escalate_at"] = max(locked.escalate_at, new_due)
        old_due = locked.due_at
        if not _compare_and_set(locked, **fields):
            raise ValueError("the clock changed while it was being extended")
        for name, value in fields.items():
            setattr(clock, name, value)
        with ui_language():
            note = _("%(clock)s extended: due %(due)s.") % {
                "clock": clock_label(locked),
                "due": local_minute(new_due),
            }
        timeline_write(
            [
                timeline_line(
                    grievance_id=locked.grievance_id,
                    at=now,
                    actor=actor,
                    old=local_minute(old_due),
                    new=local_minute(new_due),
                    note=note,
                    public=True,
                )
            ]
        )


def _extended(clock: SlaClock, *, extra_minutes: int, extra_days: int) -> dt.datetime:
    """The due time after an extension, in the clock's calendar."""
    if extra_minutes < 0 or extra_days < 0 or not (extra_minutes or extra_days):
        raise ValueError("an extension adds a positive amount of time")
    due = clock.due_at
    if clock.spec.get("calendar") == SlaClockSpec.Calendar.WORKING_DAYS and extra_days:
        # The old due time is the end of a working day: count on from that date.
        due = end_of_day(WorkdayCalendar().working_days_after(local_date(due), extra_days))
    else:
        due += dt.timedelta(minutes=extra_days * MINUTES_PER_WORKING_DAY)
    return due + dt.timedelta(minutes=extra_minutes)


def span_text(delta: dt.timedelta, *, round_up: bool) -> str:
    """A duration as people say it: "8 min", "2 h 05 min", "3 d 4 h" (never "0 min")."""
    seconds = abs(delta.total_seconds())
    minutes = math.ceil(seconds / 60) if round_up else max(1, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}
