"""What the SLA engine writes besides the clock row: events (once each) and timeline lines.

Both the sweep and a late stop record a breach through `sla_events_insert`, so the row is
the same whoever gets there first, and the KPIs (which count SlaEvent rows and the
clocks' breached_at) agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation

from grievances.models import SlaClock, SlaEvent, TimelineEvent


class EventRow(NamedTuple):
    clock_id: int
    kind: str
    level: int
    due_at: dt.datetime


def sla_events_insert(rows: Sequence[EventRow], *, now: dt.datetime) -> dict[int, SlaEvent]:
    """Insert the events that do not exist yet; return those inserted, by clock id.

    `INSERT … ON CONFLICT (clock, kind, level) DO NOTHING RETURNING`: an event already
    recorded (by another sweep, a late stop, a redelivered task) is skipped by the
    database itself, never raised, and is not returned, so its notifications are not sent
    again. The unique constraint is the last guard behind the clock's compare-and-set.
    """
    if not rows:
        return {}
    table = connection.ops.quote_name(SlaEvent._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    values: list[Any] = []
    for row in rows:
        values += [row.clock_id, row.kind, row.level, adapt(row.due_at), adapt(now)]
    placeholders = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    sql = (
        f"INSERT INTO {table} (clock_id, kind, level, due_at, recorded_at) "  # noqa: S608
        f"VALUES {placeholders} "
        "ON CONFLICT (clock_id, kind, level) DO NOTHING RETURNING id, clock_id, kind, level"
    )
    by_row = {(row.clock_id, row.kind, row.level): row for row in rows}
    inserted: dict[int, SlaEvent] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        for pk, clock_id, kind, level in cursor.fetchall():
            row = by_row[(clock_id, kind, level)]
            inserted[clock_id] = SlaEvent(
                pk=pk, clock_id=clock_id, kind=kind, level=level, due_at=row.due_at, recorded_at=now
            )
    return inserted


def local_minute(moment: dt.datetime | None) -> str:
    """An instant as a person reads it on the timeline: "2026-10-08 14:30" (Shanghai)."""
    if moment is None:
        return ""
    return timezone.localtime(moment, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M")


def ui_language() -> Any:
    """Stored texts (timeline notes, notifications) are written in the UI language."""
    return translation.override(settings.LANGUAGE_CODE)


def clock_label(clock: SlaClock) -> str:
    """The clock's name in the current language, e.g. 到场 / arrive on site."""
    return str(clock.get_kind_display())


def timeline_line(
    *,
    grievance_id: int,
    at: dt.datetime,
    note: str,
    old: str = "",
    new: str = "",
    actor: Any = None,
    kind: str = TimelineEvent.Kind.CLOCK,
    public: bool = False,
) -> TimelineEvent:
    """An unsaved timeline line about a clock (bulk-created by the caller)."""
    return TimelineEvent(
        grievance_id=grievance_id,
        kind=kind,
        at=at,
        actor=actor,
        old_value=old[:64],
        new_value=new[:64],
        note=note,
        is_public=public,
    )


def timeline_write(lines: Iterable[TimelineEvent]) -> None:
    """Save timeline lines in one query."""
    TimelineEvent.objects.bulk_create(list(lines))
