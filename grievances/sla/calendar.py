"""The working-day calendar of day-granular clocks (工作日): holidays and 调休 make-up days.

Whether a date is a working day: a staff override (CalendarDay) wins; otherwise the
`chinese-calendar` package, which knows the State Council's published holidays and the
调休 weekends that are worked instead; for a year it does not know yet, Monday to Friday
(staff enter that year's holidays as overrides once they are published).

Counting rule (the one 民法典 art. 201–203 sets for periods counted in days, and the one a
community office already uses for "N个工作日内办结"): the day a clock starts is not
counted; the period ends on the N-th working day after it, at the end of that day. The
end of a day is shown as 23:59 (Shanghai), not the next midnight, which people read as
one day more (the credit supermarket's pickup deadline does the same). So a medium repair
(7 working days) accepted on Wednesday 30 September 2026 at 15:00 is due on Thursday
15 October 23:59: the National Day week (1–7 October) and Sunday 11 October are skipped,
the make-up Saturday 10 October is counted.

Working-day time, for warning points: a working day counts as 1,440 working minutes,
from 00:00 to 24:00 of that date; non-working days count nothing. `add_working_minutes`
walks that time, so 80 % of 7 working days (8,064 minutes) falls at 14:24 on the sixth
working day. Every instant is Asia/Shanghai local time (settings.TIME_ZONE), stored UTC.

Overrides are looked up once per call (one query for the span a call walks), never
cached across calls: staff edit them and the next clock must see the edit.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from django.utils import timezone

from grievances.models import CalendarDay

MINUTES_PER_WORKING_DAY = 24 * 60
#: The due time on the last day: the end of the day, shown as 23:59.
END_OF_DAY = dt.time(23, 59)
#: How many calendar days one override query covers; a call walking further asks again.
_SPAN_DAYS = 62


def _builtin_is_workday(day: dt.date) -> bool:
    """The package's answer; Monday to Friday for a year it has no data for."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


class WorkdayCalendar:
    """Answers "is this a working day?" for one call, with the overrides read in spans."""

    def __init__(self) -> None:
        self._overrides: dict[dt.date, bool] = {}
        self._loaded: list[tuple[dt.date, dt.date]] = []

    def _load(self, day: dt.date) -> None:
        first, last = day, day + dt.timedelta(days=_SPAN_DAYS)
        rows = CalendarDay.objects.filter(date__range=(first, last)).values_list(
            "date", "is_workday"
        )
        self._overrides.update(rows)
        self._loaded.append((first, last))

    def is_workday(self, day: dt.date) -> bool:
        """Whether `day` is a working day: the override if staff set one, else the package."""
        if not any(first <= day <= last for first, last in self._loaded):
            self._load(day)
        override = self._overrides.get(day)
        if override is not None:
            return override
        return _builtin_is_workday(day)

    def working_days_after(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th working day strictly after `day` (`day` itself when count is 0)."""
        if count < 0:
            raise ValueError("count must not be negative")
        found = 0
        while found < count:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                found += 1
        return day


def is_workday(day: dt.date) -> bool:
    """Whether `day` is a working day (staff override, else the statutory calendar)."""
    return WorkdayCalendar().is_workday(day)


def local_date(moment: dt.datetime) -> dt.date:
    """The Shanghai calendar date of an aware instant."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59 (Shanghai) of `day`: the due time of a working-day clock ending on it."""
    return timezone.make_aware(
        dt.datetime.combine(day, END_OF_DAY), timezone.get_default_timezone()
    )


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The end (23:59) of the `days`-th working day after `start`'s date.

    The start day never counts, whatever the hour and whether or not it is a working
    day; `days` must be at least 1.
    """
    if days < 1:
        raise ValueError("a working-day period is at least one day")
    calendar = WorkdayCalendar()
    return end_of_day(calendar.working_days_after(local_date(start), days))


def add_working_minutes(start: dt.datetime, minutes: int) -> dt.datetime:
    """The instant `minutes` of working-day time after the start of counting.

    Counting starts at 00:00 of the first working day after `start`'s date; each working
    day holds 1,440 minutes, other days none. A point that falls exactly at the end of a
    working day is shown as that day's 23:59 (the due time), never the next midnight.
    """
    if minutes < 1:
        raise ValueError("minutes must be positive")
    calendar = WorkdayCalendar()
    whole, rest = divmod(minutes, MINUTES_PER_WORKING_DAY)
    if rest == 0:
        return end_of_day(calendar.working_days_after(local_date(start), whole))
    day = calendar.working_days_after(local_date(start), whole + 1)
    midnight = timezone.make_aware(
        dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone()
    )
    return min(midnight + dt.timedelta(minutes=rest), end_of_day(day))


def working_days_point(start: dt.datetime, days: int, percent: int) -> dt.datetime:
    """`percent` % of the way through `days` working days counted from `start`.

    The warning point of a working-day clock: 80 % of 7 working days is 14:24 on the
    sixth working day; 100 % is the due time itself.
    """
    if not 0 < percent <= 100:
        raise ValueError("percent must be in 1..100")
    minutes = days * MINUTES_PER_WORKING_DAY * percent // 100
    return add_working_minutes(start, max(minutes, 1))
