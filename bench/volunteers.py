"""The volunteers part of `make bench` (issue 5): the volunteer's phone pages and the year's
hours statistics, with 20,000 volunteers and 200,000 attendances.

`seed_volunteer_scale` loads them on the bench street (most in the scale community, the
rest in two small ones) with the benchmark's volunteer, BENCH_VOLUNTEER_PHONE: a resident
of the scale community on a team, with about 300 attendances, points for the confirmed
ones, and a few sign-ups to come. Then:

- The judged pair (HTTP, target 0.5 x), as the other lists are judged, by the API that
  serves them, as the benchmark's volunteer, each against its own R20 reference request
  (the resident list's 20 rows by `.values()`, with the volunteer's session) right next
  to it:
  - `volunteer_upcoming_api`: `/api/v1/volunteers/activities/`, the first page (20) of
    the upcoming activities open to them, with places left, the waiting list and their
    own sign-up on each, against `R20_volunteer_upcoming`;
  - `volunteer_hours_api`: `/api/v1/volunteers/hours/?limit=20`, 20 attendances, the
    confirmed hours and the points, against `R20_volunteer_my_hours`.
- The phone pages themselves, HTML with the whole layout (informative): `volunteer_home`,
  `/volunteers/` (the 15 soonest upcoming activities, their shifts, their latest 5
  hours), and `volunteer_hours`, `/volunteers/hours/` (20 attendances a page), each
  against its own R20.
- Query counts in-process (Django test Client, the whole middleware stack, warm): each
  page as the benchmark's volunteer and as a volunteer with a single attendance must
  make the same number of queries.
- `volunteer_hours_stats.ms` (in-process, gunicorn stopped): the year's confirmed hours of
  the scale community by team, post and month, as `hours_statistics_query` computes it
  (its rows fetched), against `volunteer_hours_stats_sql.ms`, the same aggregate written
  by hand in SQL; both warmed up first, then interleaved, median of
  BENCH_STATS_REPEATS (5) each. Target at most 2 × (ratio = median of the rounds' ORM /
  SQL). Both plans: `bench/results/explain_volunteer_stats.txt`.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

VOLUNTEERS = int(os.environ.get("BENCH_VOLUNTEERS", "20000"))
ATTENDANCES = int(os.environ.get("BENCH_ATTENDANCES", "200000"))
STATS_REPEATS = max(3, int(os.environ.get("BENCH_STATS_REPEATS", "5")))
HOME_PATH = "/volunteers/"
HOURS_PATH = "/volunteers/hours/"
UPCOMING_API_PATH = "/api/v1/volunteers/activities/"
HOURS_API_PATH = "/api/v1/volunteers/hours/"
#: The judged pair of each page (target 0.5 x R20): the API that serves it; the HTML
#: page itself is measured next to its own R20 as well (informative).
PAGES = ("volunteer_home", "volunteer_hours", "volunteer_upcoming_api", "volunteer_hours_api")
#: What a page must show to be the page measured (ids the templates write per row).
UPCOMING_ROW = re.compile(r'id="activity-\d+"')
HOURS_ROW = re.compile(r'id="attendance-\d+"')

#: The statistics by hand: what `hours_statistics_query` asks, as one would write it.
STATS_SQL = """
SELECT a.team_id, t.name, a.post_id, p.name,
       EXTRACT(MONTH FROM a.starts_at AT TIME ZONE %(tz)s) AS month,
       COUNT(*) AS attendances,
       SUM(COALESCE(att.corrected_hours, att.hours)) AS hours
FROM volunteers_attendance AS att
JOIN volunteers_activity AS a ON a.id = att.activity_id
LEFT JOIN volunteers_team AS t ON t.id = a.team_id
LEFT JOIN volunteers_post AS p ON p.id = a.post_id
WHERE a.community_id = %(community)s
  AND a.starts_at >= %(start)s AND a.starts_at < %(end)s
  AND att.confirmed_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
"""


class VolunteerBenchError(RuntimeError):
    """The volunteer measurements could not run (seed missing, a page not as expected)."""


@dataclass(frozen=True)
class VolunteerSetup:
    """Who the volunteer scenarios run as, and what the data holds."""

    community_id: int
    user_id: int  # the benchmark's volunteer
    few_user_id: int  # a volunteer of the same community with a single attendance
    attendances: int  # on the bench street
    volunteer_attendances: int  # the benchmark volunteer's
    upcoming: int  # upcoming activities open for sign-up in the scale community (all audiences)
    year: int  # of the statistics: the current local year


def prepare_volunteers(community_id: int) -> VolunteerSetup:
    """Seed if needed (`seed_volunteer_scale`: minutes the first time, then only a top-up of
    upcoming activities) and find who to measure as."""
    from django.core.management import call_command

    call_command("seed_volunteer_scale", volunteers=VOLUNTEERS, attendances=ATTENDANCES)
    return volunteer_setup(community_id)


def volunteer_setup(community_id: int) -> VolunteerSetup:
    """The benchmark volunteer, a volunteer with one attendance, and the data's sizes."""
    from django.db.models import Count
    from django.utils import timezone

    from accounts.models import User
    from volunteers.management.commands.seed_volunteer_scale import BENCH_VOLUNTEER_PHONE
    from volunteers.models import Activity, Attendance

    user = User.objects.get(phone=BENCH_VOLUNTEER_PHONE)
    # A resident volunteer of the scale community with one attendance (the 136… logins).
    few = (
        Attendance.objects.filter(activity__community_id=community_id, user__resident__isnull=False)
        .exclude(user=user)
        .values("user")
        .annotate(n=Count("pk"))
        .filter(n=1)
        .order_by("user")
        .values_list("user", flat=True)
        .first()
    )
    if few is None:
        raise VolunteerBenchError("no volunteer with a single attendance in the scale community")
    now = timezone.now()
    return VolunteerSetup(
        community_id=community_id,
        user_id=user.pk,
        few_user_id=few,
        attendances=Attendance.objects.count(),
        volunteer_attendances=Attendance.objects.filter(user=user).count(),
        upcoming=Activity.objects.filter(
            community_id=community_id, starts_at__gt=now, signup_open=True
        ).count(),
        year=timezone.localtime(now).year,
    )


# --- query counts, in-process -------------------------------------------------------------------


def page_queries(setup: VolunteerSetup) -> dict[str, int]:
    """Queries per request of both pages as the benchmark volunteer and as one with a
    single attendance (warm: the first request of each is not counted); checks that the
    pages show a full page of rows for the benchmark volunteer."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from volunteers.api.activities import UpcomingPagination
    from volunteers.selectors.pages import upcoming_activities
    from volunteers.views.volunteer import HOME_UPCOMING

    api_page = UpcomingPagination.page_size

    counts: dict[str, int] = {}
    for who, user_id in (("", setup.user_id), (".one_attendance", setup.few_user_id)):
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(User.objects.get(pk=user_id))
        # What the pages must show (at scale: a full page of each).
        user = User.objects.get(pk=user_id)
        open_to_me = len(upcoming_activities(user=user, now=timezone.now()))
        hours_rows = min(20, setup.volunteer_attendances)
        for name, path, row, rows in (
            ("volunteer_home", HOME_PATH, UPCOMING_ROW, min(open_to_me, HOME_UPCOMING)),
            ("volunteer_hours", HOURS_PATH, HOURS_ROW, hours_rows),
            ("volunteer_upcoming_api", UPCOMING_API_PATH, None, min(open_to_me, api_page)),
            ("volunteer_hours_api", HOURS_API_PATH + "?limit=20", None, hours_rows),
        ):
            client.get(path)  # warm
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path)
            if response.status_code != 200:
                raise VolunteerBenchError(f"{path} answered {response.status_code} in-process")
            if row is None:
                body = response.json()
                shown = len(body["results"] if isinstance(body, dict) else body)
            else:
                shown = len(row.findall(response.content.decode()))
            if not who and shown < rows:
                raise VolunteerBenchError(f"{path} shows {shown} rows, not {rows}")
            counts[f"{name}{who}"] = len(ctx.captured_queries)
    return counts


# --- the hours statistics: ORM against hand-written SQL -------------------------------------------


@dataclass(frozen=True)
class StatsTiming:
    """Medians (ms) of the statistics by `hours_statistics_query` and by hand."""

    orm: float
    sql: float
    ratio: float  # median of the rounds' orm / sql
    rows: int
    attendances: int
    plan_orm: str
    plan_sql: str


def _stats_params(community_id: int, year: int) -> dict[str, Any]:
    from django.utils import timezone

    from volunteers.selectors.stats import year_bounds

    start, end = year_bounds(year)
    tz = str(timezone.get_current_timezone())
    return {"community": community_id, "start": start, "end": end, "tz": tz}


def _normalised(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            (t, tn or "", p, pn or "", int(m), int(n), Decimal(h or 0))
            for t, tn, p, pn, m, n, h in rows
        ),
        key=lambda r: (r[0] or 0, r[2] or 0, r[4]),
    )


def time_statistics(setup: VolunteerSetup, repeats: int = STATS_REPEATS) -> StatsTiming:
    """Both warm (one untimed run each), then interleaved, the order swapped each round;
    the two must give the same rows."""
    from django.db import connection

    from volunteers.selectors.stats import hours_statistics_query

    params = _stats_params(setup.community_id, setup.year)

    def orm() -> list[tuple[Any, ...]]:
        query = hours_statistics_query(community_id=setup.community_id, year=setup.year)
        return [
            (
                r["team_ref"],
                r["team_label"],
                r["post_ref"],
                r["post_label"],
                r["month"],
                r["attendances"],
                r["hours"],
            )
            for r in query
        ]

    def by_hand() -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(STATS_SQL, params)
            return list(cursor.fetchall())

    def timed(work: Any) -> tuple[float, list[tuple[Any, ...]]]:
        started = time.perf_counter()
        result = work()
        return (time.perf_counter() - started) * 1000, result

    _t, orm_rows = timed(orm)
    _t, sql_rows = timed(by_hand)
    if _normalised(orm_rows) != _normalised(sql_rows):
        raise VolunteerBenchError("hours_statistics_query and the SQL by hand disagree")
    times: dict[str, list[float]] = {"orm": [], "sql": []}
    for round_no in range(repeats):
        order = [("orm", orm), ("sql", by_hand)]
        for key, work in order if round_no % 2 == 0 else order[::-1]:
            times[key].append(timed(work)[0])
    query = hours_statistics_query(community_id=setup.community_id, year=setup.year)
    plan_orm = query.explain(analyze=True, buffers=True)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + STATS_SQL, params)
        plan_sql = "\n".join(row[0] for row in cursor.fetchall())
    return StatsTiming(
        orm=statistics.median(times["orm"]),
        sql=statistics.median(times["sql"]),
        ratio=statistics.median(o / s for o, s in zip(times["orm"], times["sql"], strict=True)),
        rows=len(orm_rows),
        attendances=sum(int(r[5]) for r in orm_rows),
        plan_orm=plan_orm,
        plan_sql=plan_sql,
    )


# --- rows --------------------------------------------------------------------------------------


def query_count_rows(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Each page's queries as a volunteer with one attendance (informative) and as the
    benchmark volunteer (hundreds): the same number."""
    from bench.results import make_row

    rows = []
    for page in PAGES:
        few = counts[f"{page}.one_attendance"]
        rows.append(make_row(f"{page}.queries.one_attendance", few, "queries/request"))
        rows.append(
            make_row(
                f"{page}.queries.many_attendances",
                counts[page],
                "queries/request",
                reference=f"{page}.queries.one_attendance",
                reference_value=few,
                target=1.0,
                exact=True,
            )
        )
    return rows


def timing_rows(stats: StatsTiming) -> list[dict[str, Any]]:
    from bench.results import make_row

    return [
        make_row("volunteer_hours_stats_sql.ms", stats.sql, "ms"),
        make_row(
            "volunteer_hours_stats.ms",
            stats.orm,
            "ms",
            reference="volunteer_hours_stats_sql.ms",
            reference_value=stats.sql,
            target=2.0,
            at_most=True,
            ratio=stats.ratio,
        ),
    ]


def summary(setup: VolunteerSetup, counts: dict[str, int], stats: StatsTiming) -> str:
    """The lines bench.run prints after the table."""
    return "\n".join(
        [
            f"volunteers: {setup.attendances:,} attendances; the bench volunteer has "
            f"{setup.volunteer_attendances}, {setup.upcoming} upcoming activities in the "
            "scale community",
            "queries/request, one attendance / the bench volunteer: home "
            f"{counts['volunteer_home.one_attendance']} / {counts['volunteer_home']}, my hours "
            f"{counts['volunteer_hours.one_attendance']} / {counts['volunteer_hours']}; the "
            f"APIs: upcoming {counts['volunteer_upcoming_api.one_attendance']} / "
            f"{counts['volunteer_upcoming_api']}, my hours "
            f"{counts['volunteer_hours_api.one_attendance']} / {counts['volunteer_hours_api']}",
            f"hours statistics {setup.year} ({stats.rows} rows over {stats.attendances:,} "
            f"confirmed attendances): {stats.orm:.1f} ms by hours_statistics_query vs "
            f"{stats.sql:.1f} ms by hand, ratio {stats.ratio:.2f} (target <= 2): "
            f"{'yes' if stats.ratio <= 2 else 'NO'}",
        ]
    )
