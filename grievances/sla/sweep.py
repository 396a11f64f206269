"""The SLA sweep (DESIGN §5): turn due warn/due/escalate columns into events, once each.

Beat runs it every 10 seconds (the embedded loop does the same in `make run`). Each pass
asks three questions of the running clocks, each answered by a partial index:

- warnings:    warn_at <= now and not yet warned       (slaclock_warn_running)
- breaches:    due_at < now and not yet breached        (slaclock_due_running)
- escalations: escalate_at <= now                       (slaclock_escalate_running)

and works through the answer in batches, each batch its own short transaction:
`SELECT … ORDER BY <column> LIMIT n FOR UPDATE SKIP LOCKED` takes rows no other sweep
holds (two workers, or beat and the embedded loop overlapping, split the work instead of
waiting on each other), a compare-and-set on the column claims them, the event insert
skips any that already exist (unique per clock, kind and level, so the database is the
last guard), and the timeline lines and inbox notifications are written in the same
transaction. External sends (SMS, e-mail) happen after commit (accounts.notifications).
A worker killed mid-batch rolls the whole batch back: the rows are due again, and the next
sweep records them, once (healthchecks' `sendalerts` works the same way).

A paused, stopped or cancelled clock is never swept: every question asks for "running".
Breaches are "due_at < now": arriving at exactly the due time is on time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.notifications import notify
from grievances.models import Grievance, SlaClock, SlaEvent, TimelineEvent
from grievances.sla.escalation import (
    BREACH_LEVEL,
    TOP_LEVEL,
    grievance_path,
    grievances_for_ladder,
    ladder_recipients,
    next_rung_at,
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
Kind = SlaEvent.Kind

DEFAULT_BATCH_SIZE = 500
#: A pass stops starting new batches after this long; the next pass (10 s later) goes on.
DEFAULT_TIME_BUDGET = 60.0


@dataclasses.dataclass
class SweepResult:
    """What one pass of the sweep recorded."""

    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    notifications: int = 0
    batches: int = 0
    # False when the pass stopped on its budget with due work left for the next pass.
    complete: bool = True

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _due_warnings(now: dt.datetime) -> QuerySet[SlaClock]:
    return SlaClock.objects.filter(
        state=State.RUNNING, warned_at__isnull=True, warn_at__isnull=False, warn_at__lte=now
    ).order_by("warn_at")


def _due_breaches(now: dt.datetime) -> QuerySet[SlaClock]:
    return SlaClock.objects.filter(
        state=State.RUNNING, breached_at__isnull=True, due_at__lt=now
    ).order_by("due_at")


def _due_escalations(now: dt.datetime) -> QuerySet[SlaClock]:
    return SlaClock.objects.filter(
        state=State.RUNNING, escalate_at__isnull=False, escalate_at__lte=now
    ).order_by("escalate_at")


def sla_due_count(*, now: dt.datetime) -> int:
    """How many clocks a sweep at `now` still has to record something for."""
    return _due_warnings(now).count() + _due_breaches(now).count() + _due_escalations(now).count()


def _claim(clocks: Sequence[SlaClock], condition: dict[str, Any], **values: Any) -> list[SlaClock]:
    """Compare-and-set `values` on the locked clocks still matching `condition`."""
    ids = [clock.pk for clock in clocks]
    changed = SlaClock.objects.filter(pk__in=ids, state=State.RUNNING, **condition).update(**values)
    if changed != len(ids):
        # Not expected under the row locks; keep only the rows this call set.
        still = set(SlaClock.objects.filter(pk__in=ids, **values).values_list("pk", flat=True))
        clocks = [clock for clock in clocks if clock.pk in still]
    for clock in clocks:
        for name, value in values.items():
            setattr(clock, name, value)
    return list(clocks)


def _notify(
    events: Sequence[tuple[SlaClock, SlaEvent]],
    grievances: dict[int, Grievance],
    level: int,
) -> int:
    """Send each event to its rung of the ladder; return the notifications written."""
    recipients = ladder_recipients(
        [grievances[clock.grievance_id] for clock, _event in events], level
    )
    sent = 0
    with ui_language():
        for clock, event in events:
            grievance = grievances[clock.grievance_id]
            values = {
                "clock": clock_label(clock),
                "number": grievance.pk,
                "title": grievance.title,
                "due": local_minute(clock.due_at),
                "level": level,
            }
            if event.kind == Kind.WARNING:
                subject = _("Due soon: %(clock)s of grievance #%(number)s “%(title)s”") % values
                body = _("The %(clock)s promise is due at %(due)s.") % values
            elif event.kind == Kind.BREACH:
                subject = _("Overdue: %(clock)s of grievance #%(number)s “%(title)s”") % values
                body = _("The %(clock)s promise was due at %(due)s and is not met yet.") % values
            else:
                subject = (
                    _("Escalated (level %(level)s): %(clock)s of grievance #%(number)s “%(title)s”")
                    % values
                )
                body = _("The %(clock)s promise was due at %(due)s and is still not met.") % values
            sent += len(
                notify(
                    users=recipients[grievance.pk],
                    subject=subject,
                    body=body,
                    link=grievance_path(grievance.pk),
                    kind=f"grievance.sla_{event.kind}",
                    ref=f"sla-event:{event.pk}",
                )
            )
    return sent


def _timeline(
    events: Sequence[tuple[SlaClock, SlaEvent]], now: dt.datetime, note: Callable[..., str]
) -> None:
    lines = []
    with ui_language():
        for clock, event in events:
            lines.append(
                timeline_line(
                    grievance_id=clock.grievance_id,
                    at=now,
                    kind=TimelineEvent.Kind.ESCALATED
                    if event.kind == Kind.ESCALATION
                    else TimelineEvent.Kind.CLOCK,
                    old=local_minute(clock.due_at),
                    new=str(event.level) if event.kind == Kind.ESCALATION else local_minute(now),
                    note=note(clock, event),
                )
            )
    timeline_write(lines)


def _record(
    clocks: Sequence[SlaClock],
    kind: str,
    *,
    level: Callable[[SlaClock], int],
    due: dict[int, dt.datetime],
    now: dt.datetime,
) -> list[tuple[SlaClock, SlaEvent]]:
    """Insert the events of the claimed clocks; the pairs actually inserted."""
    inserted = sla_events_insert(
        [EventRow(clock.pk, kind, level(clock), due[clock.pk]) for clock in clocks], now=now
    )
    return [(clock, inserted[clock.pk]) for clock in clocks if clock.pk in inserted]


def _warn(clocks: list[SlaClock], now: dt.datetime, result: SweepResult) -> None:
    # Warning rows are claimed with their old warn_at read under the lock.
    warn_due = {clock.pk: clock.warn_at or clock.due_at for clock in clocks}
    claimed = _claim(clocks, {"warned_at__isnull": True}, warned_at=now)
    # A clock already past due is about to breach in this same pass: a "due soon" would
    # be wrong, so it is marked warned without a message.
    live = [clock for clock in claimed if clock.due_at >= now]
    # The warning's level is the extension round, so an extended clock warns again.
    events = _record(live, Kind.WARNING, level=lambda c: c.extensions, due=warn_due, now=now)
    result.warnings += len(events)
    if not events:
        return
    _timeline(
        events,
        now,
        lambda clock, event: (
            _("%(clock)s is due soon (%(due)s).")
            % {"clock": clock_label(clock), "due": local_minute(clock.due_at)}
        ),
    )
    grievances = grievances_for_ladder(clock.grievance_id for clock, _event in events)
    result.notifications += _notify(events, grievances, 0)


def _breach(clocks: list[SlaClock], now: dt.datetime, result: SweepResult) -> None:
    claimed = _claim(clocks, {"breached_at__isnull": True}, breached_at=now)
    # The first rung is this breach; the next one is counted from the due time.
    for clock in claimed:
        clock.escalation_level = BREACH_LEVEL
        clock.escalate_at = next_rung_at(clock.spec, clock.due_at)
    SlaClock.objects.bulk_update(claimed, ["escalation_level", "escalate_at"])
    events = _record(
        claimed,
        Kind.BREACH,
        level=lambda c: BREACH_LEVEL,
        due={clock.pk: clock.due_at for clock in claimed},
        now=now,
    )
    result.breaches += len(events)
    if not events:
        return
    _timeline(
        events,
        now,
        lambda clock, event: (
            _("%(clock)s is overdue (due %(due)s).")
            % {"clock": clock_label(clock), "due": local_minute(clock.due_at)}
        ),
    )
    grievances = grievances_for_ladder(clock.grievance_id for clock, _event in events)
    result.notifications += _notify(events, grievances, BREACH_LEVEL)


def _escalate(clocks: list[SlaClock], now: dt.datetime, result: SweepResult) -> None:
    by_level: dict[int, list[SlaClock]] = defaultdict(list)
    for clock in clocks:
        by_level[clock.escalation_level].append(clock)
    for old_level, group in sorted(by_level.items()):
        due = {clock.pk: clock.escalate_at for clock in group if clock.escalate_at}
        level = old_level + 1
        if level > TOP_LEVEL:
            # Nothing above the street: stop asking (not expected: the top rung clears it).
            _claim(group, {"escalation_level": old_level}, escalate_at=None)
            continue
        claimed = _claim(group, {"escalation_level": old_level}, escalation_level=level)
        for clock in claimed:
            clock.escalate_at = (
                None if level >= TOP_LEVEL else next_rung_at(clock.spec, due[clock.pk])
            )
        SlaClock.objects.bulk_update(claimed, ["escalate_at"])
        events = _record(
            claimed, Kind.ESCALATION, level=lambda c: c.escalation_level, due=due, now=now
        )
        result.escalations += len(events)
        if not events:
            continue
        _timeline(
            events,
            now,
            lambda clock, event: (
                _("%(clock)s escalated to level %(level)s.")
                % {"clock": clock_label(clock), "level": event.level}
            ),
        )
        grievances = grievances_for_ladder(clock.grievance_id for clock, _event in events)
        result.notifications += _notify(events, grievances, level)


PHASES: tuple[tuple[Callable[[dt.datetime], QuerySet[SlaClock]], Callable[..., None]], ...] = (
    (_due_warnings, _warn),
    (_due_breaches, _breach),
    (_due_escalations, _escalate),
)


#: The clock columns the handlers below read.
CLOCK_COLUMNS = (
    "id",
    "grievance_id",
    "kind",
    "spec",
    "state",
    "due_at",
    "warn_at",
    "escalate_at",
    "escalation_level",
)


def _batch(
    query: Callable[[dt.datetime], QuerySet[SlaClock]],
    handle: Callable[..., None],
    *,
    now: dt.datetime,
    batch_size: int,
    result: SweepResult,
) -> int:
    """One batch in its own transaction; how many clocks it took."""
    with transaction.atomic(durable=True):
        # Two statements, each taking its rows with SKIP LOCKED: the due clocks (served
        # by the clock's partial index, only the columns the handlers read), then their
        # grievances. The grievance is locked too: the timeline insert below needs a
        # key-share lock on it, and a workflow service that holds the grievance while it
        # waits for one of these clocks would otherwise deadlock with us. A clock whose
        # grievance is busy is left for the next pass (or judged by the service's own
        # stop). Neither wait happens: both statements skip what is locked. NO KEY:
        # neither row's key changes, so inserts that only reference them go on.
        due = list(
            query(now)
            .only(*CLOCK_COLUMNS)
            .select_for_update(skip_locked=True, no_key=True)[:batch_size]
        )
        free = set(
            Grievance.objects.filter(pk__in={clock.grievance_id for clock in due})
            .order_by("pk")
            .select_for_update(skip_locked=True, no_key=True)
            .values_list("pk", flat=True)
        )
        clocks = [clock for clock in due if clock.grievance_id in free]
        if clocks:
            handle(clocks, now, result)
    return len(clocks)


def sla_sweep(
    *,
    now: dt.datetime,
    batch_size: int = DEFAULT_BATCH_SIZE,
    time_budget: float | None = DEFAULT_TIME_BUDGET,
    max_batches: int | None = None,
) -> SweepResult:
    """Record the due warnings, breaches and escalations of running clocks, once each,
    batch by batch, until none are left or the budget is spent."""
    result = SweepResult()
    started = time.monotonic()
    for query, handle in PHASES:
        while True:
            over_time = time_budget is not None and time.monotonic() - started >= time_budget
            if over_time or (max_batches is not None and result.batches >= max_batches):
                result.complete = False
                return result
            taken = _batch(query, handle, now=now, batch_size=batch_size, result=result)
            # Until a batch finds nothing: what is left is recorded, or locked by another
            # sweep that records it. Asking once more (rather than stopping on a short
            # batch) lets a clock climb every rung already due in one pass, after an outage.
            if not taken:
                break
            result.batches += 1
    return result
