"""The grievances part of `make bench` (issue 4): the SLA sweep at scale, the board, filing.

With 1,000,000 grievances and their clocks, 50,000 of them running (`seed_grievance_scale`
in the bench database), and a second database with 100,000 grievances and the same 50,000
running clocks (`linli_bench_g100k` next to it, its own `seed_scale` registry):

- `grievance_sweep_batch_without_index.ms`: the sweep's batch query (the exact SQL
  `grievances.sla.sweep` sends for due breaches: 500 running clocks due before AS_OF, with
  their grievances, `FOR NO KEY UPDATE SKIP LOCKED`), timed in a transaction that is
  rolled back, against the same query after `DROP INDEX slaclock_due_running` in a
  transaction that is rolled back too; interleaved, median of BENCH_SWEEP_REPEATS (5).
  Target: without its index at least 100 × slower (ratio = without / with).
- `grievance_sweep.ms`: one full `sla_sweep(now=AS_OF)` pass (about an hour's backlog:
  warnings, breaches and escalations, with their timeline lines and inbox notifications),
  against the same pass in the 100,000-grievance database. Each database is swept by a
  worker process of its own (`python -m bench.grievances sweep-worker`, one warm-up pass
  first), the two alternating; after each pass the worker puts back what the pass
  wrote (events, timeline lines, notifications, the clocks' columns), untimed, so every
  pass does the same work. Target: at most 1.2 × the small database's time.
- `grievance_board` (HTTP): the grievance list of the API, `/api/v1/grievances/` (page
  of 20), as the bench user (community staff), against `R20_grievances`, the same 20 rows
  by `.values()`; the same number of queries at page_size 1, 20 and 50.
- `grievance_file` (HTTP POST): a hotline call filed through the API as the bench user,
  against `R_file`, the rows `grievance_file` inserts written by hand in one transaction.

gunicorn is stopped during the in-process timings (as for the reconciliation).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
#: Scale of the two databases; the running count is the same in both.
GRIEVANCES = int(os.environ.get("BENCH_GRIEVANCES", "1000000"))
SMALL_GRIEVANCES = int(os.environ.get("BENCH_GRIEVANCES_SMALL", "100000"))
RUNNING = int(os.environ.get("BENCH_RUNNING_CLOCKS", "50000"))
SWEEP_REPEATS = max(3, int(os.environ.get("BENCH_SWEEP_REPEATS", "3")))
BATCH_REPEATS = max(3, int(os.environ.get("BENCH_BATCH_REPEATS", "5")))
SMALL_SUFFIX = "_g100k"
#: The index the sweep's breach query is answered by (grievances.models.SlaClock.Meta).
DUE_INDEX = "slaclock_due_running"
#: What a hotline call files (a routine category without extra questions).
FILE_CATEGORY = "facility-streetlight"
FILE_PHONE = "13812345678"


class GrievanceBenchError(RuntimeError):
    """The grievance measurements could not run (a seed or a sweep worker failed)."""


@dataclass(frozen=True)
class GrievanceSetup:
    """What the grievance scenarios read and file, and the two databases' sizes."""

    community_id: int
    category_id: int
    building_id: int
    grievances: int
    running: int
    small_database_url: str
    small_grievances: int

    def file_body(self) -> str:
        """The JSON of one hotline call, as the API takes it."""
        return json.dumps(
            {
                "category": self.category_id,
                "building": self.building_id,
                "channel": "hotline",
                "title": "Streetlight out (bench)",
                "description": "The lamp by the gate is out (bench).",
                "caller_phone": FILE_PHONE,
            }
        )


def small_database_url(url: str) -> str:
    """The 100,000-grievance database: BENCH_GRIEVANCES_SMALL_DATABASE_URL, or the bench
    database's name with `_g100k` appended."""
    explicit = os.environ.get("BENCH_GRIEVANCES_SMALL_DATABASE_URL")
    if explicit:
        return explicit
    parts = urllib.parse.urlparse(url)
    return parts._replace(path=parts.path.rstrip("/") + SMALL_SUFFIX).geturl()


def _manage(env: dict[str, str], *args: str) -> None:
    """A manage.py command in a process of its own (another database than this one's)."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    for line in done.stdout.strip().splitlines()[-2:]:
        print(f"  [{args[0]}] {line}", flush=True)
    if done.returncode != 0:
        raise GrievanceBenchError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def prepare_grievances(
    environ: dict[str, str], residents: int, ensure_database: Callable[[str], None]
) -> GrievanceSetup:
    """Seed both databases if needed (nothing to do once seeded) and find what to file.

    `environ`: bench.run.Config.environ() (this process is set up for the bench database);
    `ensure_database`: bench.run's, creating the small database if absent. The small
    database gets the same registry (`seed_scale`, `residents`) and the same running
    clocks; its first seeding takes a few minutes.
    """
    from django.core.management import call_command

    from community.management.commands.seed_scale import COMMUNITY_CODE
    from community.models import Building, Community
    from grievances.models import Category, Grievance

    call_command("seed_grievance_scale", grievances=GRIEVANCES, running=RUNNING)
    small_url = small_database_url(environ["DATABASE_URL"])
    ensure_database(small_url)
    small_env = {**environ, "DATABASE_URL": small_url}
    _manage(small_env, "migrate", "--no-input", "-v0")
    _manage(small_env, "seed_scale", f"--residents={residents}")
    _manage(
        small_env,
        "seed_grievance_scale",
        f"--grievances={SMALL_GRIEVANCES}",
        f"--running={RUNNING}",
    )
    community = Community.objects.get(code=COMMUNITY_CODE)
    building = Building.objects.filter(estate__community=community).order_by("id").first()
    assert building is not None
    return GrievanceSetup(
        community_id=community.pk,
        category_id=Category.objects.get(code=FILE_CATEGORY).pk,
        building_id=building.pk,
        grievances=Grievance.objects.filter(community=community).count(),
        running=_running_clocks(),
        small_database_url=small_url,
        small_grievances=SMALL_GRIEVANCES,
    )


def _running_clocks() -> int:
    from grievances.models import SlaClock

    return SlaClock.objects.filter(state=SlaClock.State.RUNNING).count()


# --- the sweep's batch query, with and without its index -------------------------------------


class _Rollback(Exception):
    """Raised inside the sweep's batch transaction: it rolls back, nothing is recorded."""


def batch_sql() -> str:
    """The SQL with which one sweep batch takes its due clocks (breaches at AS_OF), as
    PostgreSQL received it (captured from `grievances.sla.sweep._batch` itself, in a
    transaction rolled back)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from grievances.management.commands.seed_grievance_scale import AS_OF
    from grievances.sla import sweep

    def stop(clocks: list[Any], now: Any, result: Any) -> None:
        raise _Rollback

    with CaptureQueriesContext(connection) as ctx, contextlib.suppress(_Rollback):
        sweep._batch(
            sweep._due_breaches,
            stop,
            now=AS_OF,
            batch_size=sweep.DEFAULT_BATCH_SIZE,
            result=sweep.SweepResult(),
        )
    # The batch takes its due clocks in one statement (the one the clock's index serves),
    # then locks their grievances by primary key in a second one.
    locking = [
        q["sql"]
        for q in ctx.captured_queries
        if "SKIP LOCKED" in q["sql"] and 'FROM "grievances_slaclock"' in q["sql"]
    ]
    if len(locking) != 1:
        raise RuntimeError(f"expected one clock-locking SELECT from the sweep, got {len(locking)}")
    return locking[0]


@dataclass(frozen=True)
class BatchTiming:
    """Medians (ms) of the sweep's batch query with its index, without it, and with no
    index at all: as the sweep waits for it (until PostgreSQL has sent the rows) and as
    the server executes it (EXPLAIN ANALYZE's execution time, timing off: no rows sent).

    Without `slaclock_due_running` PostgreSQL still has an index to walk: the unique
    partial index of live clocks (`slaclock_one_live_per_kind`, a correctness constraint),
    so that plan is bounded by the running clocks, not by the million. With no index
    at all (index scans switched off in the transaction) the query reads the whole
    clock table: the plan a sweep query without an index of its own has."""

    with_index: float
    without_index: float
    no_index: float
    rows: int
    plan_with: str
    plan_without: str
    plan_no_index: str
    server_with_index: float = 0.0
    server_without_index: float = 0.0
    server_no_index: float = 0.0


_EXECUTION = re.compile(r"Execution Time: ([\d.]+) ms")

#: The three ways the batch query is run: with its index, after DROP INDEX, and after
#: DROP INDEX with index scans off (a sequential scan of the clocks).
WITH, WITHOUT, NO_INDEX = "with", "without", "no_index"


def time_batch_query(repeats: int = BATCH_REPEATS) -> BatchTiming:
    """The batch query with its partial index, after DROP INDEX, and with no index at all,
    each in a transaction rolled back (the rows it locks are released, the index is
    back), interleaved.

    A query without the index reads many pages through the 128 MB of shared buffers and
    pushes the sweep's pages out; the sweep itself, every 10 seconds, keeps them in. So
    each timed run with the index follows an untimed one, as a sweep follows the
    previous sweep, and the comparison is not of a cold cache against a warm one.
    """
    from django.db import connection, transaction

    sql = batch_sql()

    def once(mode: str, explain: str = "") -> tuple[float, int, str]:
        """(ms, rows, plan): `explain` prefixes the SQL with EXPLAIN (options); then the
        time is the server's execution time."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                if mode != WITH:
                    cursor.execute(f"DROP INDEX {connection.ops.quote_name(DUE_INDEX)}")
                if mode == NO_INDEX:
                    for kind in ("indexscan", "bitmapscan", "indexonlyscan"):
                        cursor.execute(f"SET LOCAL enable_{kind} = off")
                if explain:
                    cursor.execute(f"EXPLAIN ({explain}) {sql}")
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    found = _EXECUTION.search(plan)
                    took, rows = (float(found[1]) if found else float("nan")), 0
                else:
                    # execute() returns once PostgreSQL has sent every row; turning them
                    # into Python values (fetchall) is the caller's work, the same with or
                    # without the index: it is left out of the time.
                    started = time.perf_counter()
                    cursor.execute(sql)
                    took = (time.perf_counter() - started) * 1000
                    rows, plan = len(cursor.fetchall()), ""
            transaction.set_rollback(True)
        return took, rows, plan

    plans = {mode: once(mode, explain="ANALYZE, BUFFERS")[2] for mode in (WITH, WITHOUT, NO_INDEX)}
    client: dict[str, list[float]] = {WITH: [], WITHOUT: [], NO_INDEX: []}
    server: dict[str, list[float]] = {WITH: [], WITHOUT: [], NO_INDEX: []}
    rows = 0
    for round_no in range(repeats):
        order = (WITH, WITHOUT, NO_INDEX) if round_no % 2 == 0 else (NO_INDEX, WITHOUT, WITH)
        for mode in order:
            if mode == WITH:
                once(mode)  # the previous sweep
            took, rows, _plan = once(mode)
            client[mode].append(took)
            server[mode].append(once(mode, explain="ANALYZE, TIMING OFF")[0])
    return BatchTiming(
        with_index=statistics.median(client[WITH]),
        without_index=statistics.median(client[WITHOUT]),
        no_index=statistics.median(client[NO_INDEX]),
        rows=rows,
        plan_with=plans[WITH],
        plan_without=plans[WITHOUT],
        plan_no_index=plans[NO_INDEX],
        server_with_index=statistics.median(server[WITH]),
        server_without_index=statistics.median(server[WITHOUT]),
        server_no_index=statistics.median(server[NO_INDEX]),
    )


# --- one sweep pass, in each database ------------------------------------------------------


def _due_clause() -> str:
    """Running clocks the sweep at %(now)s has something to record for (its three
    questions, as grievances.sla.sweep asks them)."""
    return (
        "state = 'running' AND ("
        "(warned_at IS NULL AND warn_at IS NOT NULL AND warn_at <= %(now)s)"
        " OR (breached_at IS NULL AND due_at < %(now)s)"
        " OR (escalate_at IS NOT NULL AND escalate_at <= %(now)s))"
    )


def sweep_once() -> dict[str, Any]:
    """One timed `sla_sweep(now=AS_OF)`, then what it wrote put back (untimed).

    Before the pass, the sweep-owned columns of every clock it will touch are kept in a
    temporary table; afterwards its events (recorded_at = AS_OF), their inbox
    notifications, its timeline lines (at = AS_OF) are deleted, the columns restored and
    the tables vacuumed, so the next pass finds the same work.
    """
    from django.db import connection, transaction

    from accounts.models import Notification, NotificationDelivery
    from grievances.management.commands.seed_grievance_scale import AS_OF
    from grievances.models import SlaClock, SlaEvent, TimelineEvent
    from grievances.sla.sweep import sla_due_count, sla_sweep

    quote = connection.ops.quote_name
    clocks = quote(SlaClock._meta.db_table)
    events = quote(SlaEvent._meta.db_table)
    lines = quote(TimelineEvent._meta.db_table)
    inbox = quote(Notification._meta.db_table)
    deliveries = quote(NotificationDelivery._meta.db_table)
    columns = "warned_at, breached_at, escalation_level, escalate_at"
    params = {"now": AS_OF}
    due_before = sla_due_count(now=AS_OF)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS bench_sweep_rearm "
            "(id bigint PRIMARY KEY, warned_at timestamptz, breached_at timestamptz, "
            "escalation_level smallint, escalate_at timestamptz)"
        )
        cursor.execute("TRUNCATE bench_sweep_rearm")
        cursor.execute(
            f"INSERT INTO bench_sweep_rearm SELECT id, {columns} FROM {clocks} "  # noqa: S608
            f"WHERE {_due_clause()}",
            params,
        )
    started = time.perf_counter()
    result = sla_sweep(now=AS_OF, time_budget=None)
    took = (time.perf_counter() - started) * 1000
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {events} WHERE recorded_at = %(now)s RETURNING id", params)  # noqa: S608
        refs = [f"sla-event:{pk}" for (pk,) in cursor.fetchall()]
        cursor.execute(
            f"DELETE FROM {deliveries} WHERE notification_id IN "  # noqa: S608
            f"(SELECT id FROM {inbox} WHERE ref = ANY(%s))",
            [refs],
        )
        cursor.execute(f"DELETE FROM {inbox} WHERE ref = ANY(%s)", [refs])  # noqa: S608
        cursor.execute(
            f"DELETE FROM {lines} WHERE at = %(now)s AND kind IN ('clock', 'escalated')",  # noqa: S608
            params,
        )
        cursor.execute(
            f"UPDATE {clocks} AS c SET warned_at = r.warned_at, breached_at = r.breached_at, "  # noqa: S608
            "escalation_level = r.escalation_level, escalate_at = r.escalate_at "
            "FROM bench_sweep_rearm AS r WHERE c.id = r.id"
        )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {clocks}, {events}, {lines}, {inbox}")
    due_after = sla_due_count(now=AS_OF)
    return {
        "ms": took,
        "result": result.as_dict(),
        "due_before": due_before,
        "due_after": due_after,
        "grievances": _count_grievances(),
    }


def _count_grievances() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        # The planner's estimate: exact enough to label the database, no full count.
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'grievances_grievance'"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def sweep_worker() -> int:
    """`python -m bench.grievances sweep-worker`: answer each "sweep" line on stdin with the
    JSON of one `sweep_once()`; the database is the environment's DATABASE_URL."""
    import django

    django.setup()
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command != "sweep":
            print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
            continue
        try:
            answer = sweep_once()
        except Exception as exc:  # reported to the parent, which stops the bench
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
    return 0


class _Worker:
    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.grievances", "sweep-worker"],
            cwd=BASE_DIR,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def sweep(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("sweep\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise GrievanceBenchError(f"the {self.name} sweep worker exited ({self.proc.poll()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise GrievanceBenchError(f"the {self.name} sweep failed: {answer['error']}")
        if answer["due_after"] != answer["due_before"]:
            raise GrievanceBenchError(
                f"the {self.name} sweep was not put back: {answer['due_before']} due before, "
                f"{answer['due_after']} after"
            )
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@dataclass(frozen=True)
class SweepTiming:
    """Medians (ms) of one sweep pass in the big and the small database."""

    big: float
    small: float
    #: Median over rounds of big / small measured next to each other.
    ratio: float
    big_grievances: int
    small_grievances: int
    result: dict[str, Any]
    small_result: dict[str, Any]


def time_sweeps(
    environ: dict[str, str], small_url: str, repeats: int = SWEEP_REPEATS
) -> SweepTiming:
    """One sweep pass in each database, alternating (and the order swapped each round),
    after one warm-up pass each."""
    big = _Worker("1,000,000", environ)
    small = _Worker("100,000", {**environ, "DATABASE_URL": small_url})
    try:
        warm_big, warm_small = big.sweep(), small.sweep()
        if warm_big["result"] != warm_small["result"]:
            raise GrievanceBenchError(
                "the two databases have different sweep work: "
                f"{warm_big['result']} vs {warm_small['result']} (seeded with other --running?)"
            )
        times: dict[str, list[float]] = {"big": [], "small": []}
        for round_no in range(repeats):
            order = [("big", big), ("small", small)]
            for key, worker in order if round_no % 2 == 0 else order[::-1]:
                times[key].append(worker.sweep()["ms"])
    finally:
        big.close()
        small.close()
    return SweepTiming(
        big=statistics.median(times["big"]),
        small=statistics.median(times["small"]),
        ratio=statistics.median(b / s for b, s in zip(times["big"], times["small"], strict=True)),
        big_grievances=warm_big["grievances"],
        small_grievances=warm_small["grievances"],
        result=warm_big["result"],
        small_result=warm_small["result"],
    )


# --- rows --------------------------------------------------------------------------------------


def timing_rows(batch: BatchTiming, sweep: SweepTiming) -> list[dict[str, Any]]:
    """latest.json rows of the in-process measurements."""
    from bench.results import make_row

    return [
        make_row("grievance_sweep_batch.ms", batch.with_index, "ms"),
        # The target: the same query with no index to use (a scan of the clocks).
        make_row(
            "grievance_sweep_batch_no_index.ms",
            batch.no_index,
            "ms",
            reference="grievance_sweep_batch.ms",
            reference_value=batch.with_index,
            target=100.0,
        ),
        # Informative: only the sweep's own index dropped; the unique index of live
        # clocks still serves it (bounded by the running clocks).
        make_row(
            "grievance_sweep_batch_without_index.ms",
            batch.without_index,
            "ms",
            reference="grievance_sweep_batch.ms",
            reference_value=batch.with_index,
        ),
        # The same three, as the server executes them (no rows sent): informative.
        make_row("grievance_sweep_batch.server_ms", batch.server_with_index, "ms"),
        make_row(
            "grievance_sweep_batch_no_index.server_ms",
            batch.server_no_index,
            "ms",
            reference="grievance_sweep_batch.server_ms",
            reference_value=batch.server_with_index,
        ),
        make_row(
            "grievance_sweep_batch_without_index.server_ms",
            batch.server_without_index,
            "ms",
            reference="grievance_sweep_batch.server_ms",
            reference_value=batch.server_with_index,
        ),
        make_row("grievance_sweep_100k.ms", sweep.small, "ms"),
        make_row(
            "grievance_sweep.ms",
            sweep.big,
            "ms",
            reference="grievance_sweep_100k.ms",
            reference_value=sweep.small,
            target=1.2,
            at_most=True,
            ratio=sweep.ratio,
        ),
    ]


def query_count_rows(queries: dict[str, int]) -> list[dict[str, Any]]:
    """The board list's queries at page_size 1, 20 and 50: all equal to page_size 1."""
    from bench.results import make_row

    first = queries["grievance_board_1"]
    return [
        make_row(
            f"grievance_board.queries.page_size_{size}",
            queries[f"grievance_board_{size}"],
            "queries/request",
            reference="grievance_board.queries.page_size_1" if size != 1 else None,
            reference_value=first if size != 1 else None,
            target=1.0 if size != 1 else None,
            exact=True,
        )
        for size in (1, 20, 50)
    ]


def summary(batch: BatchTiming, sweep: SweepTiming) -> str:
    """The lines bench.run prints after the table."""

    def times(a: float, b: float) -> float:
        return a / b if b else float("nan")

    factor = times(batch.no_index, batch.with_index)
    return "\n".join(
        [
            f"sweep batch ({batch.rows} due clocks): {batch.with_index:.2f} ms with "
            f"{DUE_INDEX}, {batch.no_index:.1f} ms with no index: {factor:.0f} x "
            f"(target >= 100): {'yes' if factor >= 100 else 'NO'}; only {DUE_INDEX} "
            f"dropped (the live clocks' unique index serves it): {batch.without_index:.1f} "
            f"ms, {times(batch.without_index, batch.with_index):.0f} x. Executed by the "
            f"server (no rows sent): {batch.server_with_index:.2f} ms vs "
            f"{batch.server_no_index:.1f} ms ({times(batch.server_no_index, batch.server_with_index):.0f} x)"
            f" and {batch.server_without_index:.1f} ms "
            f"({times(batch.server_without_index, batch.server_with_index):.0f} x)",
            f"sweep pass over {sweep.result}: {sweep.big:.0f} ms with ~{sweep.big_grievances:,} "
            f"grievances vs {sweep.small:.0f} ms with ~{sweep.small_grievances:,}: ratio "
            f"{sweep.ratio:.2f} (target <= 1.2): {'yes' if sweep.ratio <= 1.2 else 'NO'}",
        ]
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["sweep-worker"]:
        sys.exit(sweep_worker())
    print("usage: python -m bench.grievances sweep-worker", file=sys.stderr)
    sys.exit(2)
