"""The working-day calendar: statutory holidays, 调休 make-up days and staff overrides."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from grievances.models import CalendarDay
from grievances.sla.calendar import (
    add_working_days,
    add_working_minutes,
    is_workday,
    working_days_point,
)
from grievances.tests.factories_sla import CalendarDayFactory

pytestmark = pytest.mark.django_db

SHANGHAI = timezone.get_default_timezone()


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_national_day_is_a_holiday_and_the_make_up_saturday_a_workday() -> None:
    assert not is_workday(dt.date(2026, 10, 1))
    assert not is_workday(dt.date(2026, 10, 7))
    assert is_workday(dt.date(2026, 10, 8))
    # 调休: Saturday 10 October 2026 is worked, Sunday the 11th is not.
    assert is_workday(dt.date(2026, 10, 10))
    assert not is_workday(dt.date(2026, 10, 11))


def test_seven_working_days_skip_national_day_and_count_the_make_up_saturday() -> None:
    # Accepted Wednesday 30 September 15:00; the start day does not count. Working days:
    # 10-08, 10-09, 10-10 (make-up Saturday), 10-12, 10-13, 10-14, 10-15.
    due = add_working_days(local(2026, 9, 30, 15, 0), 7)
    assert due == local(2026, 10, 15, 23, 59)


def test_a_clock_started_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert add_working_days(local(2026, 10, 3, 9, 30), 1) == local(2026, 10, 8, 23, 59)


def test_the_start_day_never_counts_whatever_the_hour() -> None:
    monday = local(2026, 3, 2, 0, 0)
    assert add_working_days(monday, 1) == local(2026, 3, 3, 23, 59)
    assert add_working_days(local(2026, 3, 2, 23, 58), 1) == local(2026, 3, 3, 23, 59)
    # Friday → Monday: the weekend is skipped.
    assert add_working_days(local(2026, 3, 6, 16, 0), 1) == local(2026, 3, 9, 23, 59)


def test_a_staff_override_turns_a_normal_day_into_a_holiday() -> None:
    friday = local(2026, 10, 30, 10, 0)
    assert add_working_days(friday, 1) == local(2026, 11, 2, 23, 59)
    CalendarDayFactory(date=dt.date(2026, 11, 2), is_workday=False, name="社区停电")
    assert not is_workday(dt.date(2026, 11, 2))
    # Edits are seen by the next call: nothing is cached across calls.
    assert add_working_days(friday, 1) == local(2026, 11, 3, 23, 59)


def test_a_staff_override_turns_a_sunday_into_a_working_day() -> None:
    CalendarDayFactory(date=dt.date(2026, 11, 8), is_workday=True, name="补班")
    assert add_working_days(local(2026, 11, 6, 10, 0), 1) == local(2026, 11, 8, 23, 59)


def test_an_override_wins_over_the_statutory_calendar() -> None:
    CalendarDayFactory(date=dt.date(2026, 10, 10), is_workday=False)
    assert not is_workday(dt.date(2026, 10, 10))


def test_a_year_the_package_does_not_know_counts_monday_to_friday() -> None:
    # 2031 is past the package's data: weekdays work, weekends do not.
    assert is_workday(dt.date(2031, 1, 1))  # a Wednesday (a holiday staff would enter)
    assert not is_workday(dt.date(2031, 1, 4))
    CalendarDay.objects.create(date=dt.date(2031, 1, 1), is_workday=False, name="元旦")
    assert add_working_days(local(2030, 12, 31, 9, 0), 1) == local(2031, 1, 2, 23, 59)


def test_a_long_period_reads_the_overrides_in_few_queries(
    django_assert_max_num_queries: Any,
) -> None:
    # 15 working days over National Day walk about three weeks: one or two span queries.
    with django_assert_max_num_queries(2):
        add_working_days(local(2026, 9, 30, 9, 0), 15)


def test_the_warning_point_is_a_share_of_the_working_time() -> None:
    # 80 % of 7 working days is 5.6 days: 60 % through the 6th working day (10-14).
    start = local(2026, 9, 30, 15, 0)
    assert working_days_point(start, 7, 80) == local(2026, 10, 14, 14, 24)
    assert working_days_point(start, 7, 100) == add_working_days(start, 7)


def test_working_minutes_skip_non_working_days() -> None:
    friday = local(2026, 3, 6, 16, 0)
    # Counting starts Monday 00:00; half a working day is Monday noon.
    assert add_working_minutes(friday, 720) == local(2026, 3, 9, 12, 0)
    # A whole day ends at that day's 23:59, never the next midnight.
    assert add_working_minutes(friday, 1440) == local(2026, 3, 9, 23, 59)
    assert add_working_minutes(friday, 1441) == local(2026, 3, 10, 0, 1)
