"""`make bench` (`python -m bench.run`): load-test the project's endpoints on PostgreSQL.

1. Ensure the PostgreSQL database (BENCH_DATABASE_URL, default the local `linli_bench`),
   migrate it, seed the scale registry if absent (`seed_scale`, BENCH_RESIDENTS), and
   collect static files (the login page needs the manifest).
2. Serve the project with gunicorn (2 sync workers, config.settings.bench: DEBUG off,
   persistent connections) on a free port of 127.0.0.1.
3. Log in over HTTP as the bench user (CSRF and all) and use that one session cookie for
   every request, references and endpoints alike.
4. Count SQL queries per request in-process (Django test Client, same database, same
   session), EXPLAIN ANALYZE the scoped list query.
5. Drive load with wrk from a separate process, interleaved over BENCH_ROUNDS rounds
   (>= 3) of BENCH_DURATION seconds per scenario; take the median over rounds.
6. Print the table, write bench/results/latest.json; exit 1 if a target fails, 2 if the
   harness itself failed. gunicorn is always stopped.

All traffic goes to 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.results import failures, format_table, make_row, write_rows

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
LATEST = RESULTS_DIR / "latest.json"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/linli_bench"
HOST = "127.0.0.1"
# Every URL opened below is http://127.0.0.1:<port>/…, built here (hence the S310 noqa).
# Dummy secrets: the bench database holds made-up people only. The Fernet key stays the
# same from run to run because the seeded ciphertexts were made with it.
BENCH_FIELD_KEY = "YmVuY2gtb25seS1rZXktbm90LXNlY3JldC1saW5saSE="
BENCH_HASH_KEY = "bench-only-hash-key-not-secret"
BENCH_SECRET_KEY = "bench-only-django-secret-key-not-secret-0123456789"  # noqa: S105
WORKERS = 2
MIN_ROUNDS = 3


@dataclass(frozen=True)
class Config:
    database_url: str
    redis_url: str
    residents: int
    rounds: int
    duration: int
    connections: int

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            database_url=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
            redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
            residents=int(os.environ.get("BENCH_RESIDENTS", "100000")),
            rounds=max(MIN_ROUNDS, int(os.environ.get("BENCH_ROUNDS", "5"))),
            duration=max(1, min(60, int(os.environ.get("BENCH_DURATION", "5")))),
            connections=max(1, int(os.environ.get("BENCH_CONNECTIONS", str(WORKERS)))),
        )

    def environ(self) -> dict[str, str]:
        """What the in-process Django and gunicorn both run with."""
        return {
            "DJANGO_SETTINGS_MODULE": "config.settings.bench",
            "DATABASE_URL": self.database_url,
            "DJANGO_SECRET_KEY": BENCH_SECRET_KEY,
            "LINLI_FIELD_KEYS": BENCH_FIELD_KEY,
            "LINLI_HASH_KEY": BENCH_HASH_KEY,
            "REDIS_URL": self.redis_url,
        }


@dataclass(frozen=True)
class Scenario:
    """A URL under load; `reference` names the scenario its throughput is compared with."""

    name: str
    path: str
    reference: str | None = None
    target: float | None = None


@dataclass
class Measured:
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    socket_errors: int = 0


class BenchError(RuntimeError):
    """The harness could not measure (server down, login refused, errors under load)."""


def scenarios(community_id: int, resident_id: int) -> list[Scenario]:
    """References first, then the project's endpoints. Later issues append theirs here."""
    return [
        Scenario("R0", "/bench/r0/"),
        Scenario("R1", f"/bench/r1/{resident_id}/", reference="R0"),
        Scenario("R20", f"/bench/r20/?community={community_id}", reference="R0"),
        Scenario("resident_list", "/api/v1/residents/", reference="R20", target=0.5),
        Scenario(
            "resident_detail", f"/api/v1/residents/{resident_id}/", reference="R1", target=0.5
        ),
    ]


# --- wrk ------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(number: str, unit: str) -> float:
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict[str, float]:
    """req/s, p50 and p99 (ms), non-2xx/3xx and socket error counts from `wrk --latency`."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    requests = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and p50 and p99 and requests):
        raise BenchError(f"cannot parse wrk output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": float(rps[1]),
        "p50": _ms(p50[1], p50[2]),
        "p99": _ms(p99[1], p99[2]),
        "requests": float(requests[1]),
        "non_2xx": float(bad[1]) if bad else 0.0,
        "socket_errors": float(sum(int(n) for n in sock.groups())) if sock else 0.0,
        "timeouts": float(sock[4]) if sock else 0.0,
    }


def run_wrk(url: str, cookie: str, duration: int, connections: int) -> dict[str, float]:
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
        url,
    ]
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=duration + 30, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish: {url}") from exc
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout)
    if result["non_2xx"] or result["timeouts"]:
        raise BenchError(
            f"{url}: {result['non_2xx']:.0f} non-2xx responses and {result['timeouts']:.0f} "
            f"timeouts under load; the numbers would be meaningless\n{done.stdout}"
        )
    return result


# --- database, server, login ---------------------------------------------------------


def ensure_database(url: str) -> None:
    """Create the bench database on the PostgreSQL server if it does not exist."""
    import psycopg2
    from psycopg2 import sql

    parts = urllib.parse.urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise BenchError(f"BENCH_DATABASE_URL must be PostgreSQL, not {parts.scheme!r}")
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(
        host=parts.hostname or HOST,
        port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password) if parts.password else None,
        dbname="postgres",
        connect_timeout=10,
    )
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"created database {name}")
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(port: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """gunicorn with 2 sync workers; stopped (its own process group) whatever happens."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log_path = RESULTS_DIR / "gunicorn.log"
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"{HOST}:{port}",
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "--chdir",
        str(BASE_DIR),
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    # start_new_session made gunicorn the leader of its own group: this reaches its
    # workers and nothing else.
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (RESULTS_DIR / "gunicorn.log").read_text(errors="replace")[-3000:]
            raise BenchError(f"gunicorn exited ({proc.returncode}):\n{log}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise BenchError(f"gunicorn did not answer {base}/healthz within {timeout:.0f}s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def login(base: str, phone: str, password: str) -> dict[str, str]:
    """A normal browser login: GET the form (CSRF cookie), POST it, expect a redirect."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    url = f"{base}/accounts/login/"
    with opener.open(url, timeout=10) as resp:
        resp.read()
    cookies = {c.name: c.value or "" for c in jar}
    if "csrftoken" not in cookies:
        raise BenchError("the login page set no csrftoken cookie")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": cookies["csrftoken"], "username": phone, "password": password}
    ).encode()
    request = urllib.request.Request(url, data=form, headers={"Referer": url})  # noqa: S310
    try:
        with opener.open(request, timeout=30) as resp:
            raise BenchError(f"login answered {resp.status}, not a redirect: wrong password?")
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise BenchError(f"login answered {exc.code}") from exc
    cookies = {c.name: c.value or "" for c in jar}
    if "sessionid" not in cookies:
        raise BenchError("login redirected but set no session cookie")
    return cookies


def preflight(base: str, scenario: Scenario, cookie: str) -> None:
    """Every URL answers 200 with the session before any load is put on it."""
    request = urllib.request.Request(base + scenario.path, headers={"Cookie": cookie})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
            body = resp.read()
    except urllib.error.HTTPError as exc:
        raise BenchError(f"{scenario.name} {scenario.path} answered {exc.code}") from exc
    if scenario.name in ("R20", "resident_list"):
        rows = json.loads(body)["results"]
        if len(rows) != 20:
            raise BenchError(f"{scenario.name} returned {len(rows)} rows, not 20")


# --- in-process measurements ---------------------------------------------------------


def count_queries(session_id: str, paths: dict[str, str]) -> dict[str, int]:
    """SQL queries per request, with the same session, through the whole middleware stack."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME=HOST)
    client.cookies["sessionid"] = session_id
    counts = {}
    for name, path in paths.items():
        client.get(path)  # warm: anything cached per process is not counted
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        if response.status_code != 200:
            raise BenchError(f"{path} answered {response.status_code} in-process")
        counts[name] = len(ctx.captured_queries)
    return counts


def explain_list(user_phone: str) -> tuple[float, str]:
    """EXPLAIN ANALYZE of the first-page query of the resident list, as the bench user."""
    from accounts.models import User
    from community import selectors

    user = User.objects.get(phone=user_phone)
    plan = selectors.resident_list(user=user)[:21].explain(analyze=True, buffers=True)
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return (float(found[1]) if found else float("nan")), plan


# --- the run -------------------------------------------------------------------------


def setup_django(cfg: Config) -> None:
    os.environ.update(cfg.environ())
    import django

    django.setup()


def prepare(cfg: Config) -> tuple[int, int, int]:
    """Migrate, seed if absent, collect static. Returns (community id, resident id, count)."""
    from django.conf import settings
    from django.core.management import call_command

    from community.management.commands.seed_scale import COMMUNITY_CODE
    from community.models import Community, Resident

    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_scale", residents=cfg.residents)
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    community = Community.objects.get(code=COMMUNITY_CODE)
    residents = Resident.objects.filter(household__unit__building__estate__community=community)
    count = residents.count()
    # A resident from the middle of the registry: a detail read that is not the first row.
    ids = residents.order_by("id").values_list("id", flat=True)
    resident_id = ids[count // 2]
    return community.pk, resident_id, count


def blocks(plan: list[Scenario]) -> list[list[Scenario]]:
    """Each judged endpoint with its reference, the other scenarios alone."""
    by_name = {s.name: s for s in plan}
    paired = [[by_name[s.reference], s] for s in plan if s.target is not None and s.reference]
    taken = {s.name for block in paired for s in block}
    return paired + [[s] for s in plan if s.name not in taken]


def measure(base: str, cookie: str, plan: list[Scenario], cfg: Config) -> dict[str, Measured]:
    results = {s.name: Measured() for s in plan}
    for scenario in plan:  # warm-up, not recorded
        run_wrk(base + scenario.path, cookie, 1, cfg.connections)
    order = blocks(plan)
    for round_no in range(cfg.rounds):
        # Interleaved: an endpoint runs right next to its reference, so both see the same
        # machine; blocks rotate and pairs swap order each round, so drift on a noisy
        # machine spreads evenly instead of always hurting the same scenario.
        shift = round_no % len(order)
        for block in order[shift:] + order[:shift]:
            for scenario in block if round_no % 2 == 0 else block[::-1]:
                got = run_wrk(base + scenario.path, cookie, cfg.duration, cfg.connections)
                m = results[scenario.name]
                m.rps.append(got["rps"])
                m.p50.append(got["p50"])
                m.p99.append(got["p99"])
                m.socket_errors += int(got["socket_errors"])
        print(
            f"round {round_no + 1}/{cfg.rounds}: "
            + ", ".join(f"{s.name} {results[s.name].rps[-1]:.0f}" for s in plan)
            + " req/s",
            flush=True,
        )
    return results


def paired_ratio(value: Measured, reference: Measured) -> float:
    """Median over rounds of value / reference measured in the same round."""
    return statistics.median(v / r for v, r in zip(value.rps, reference.rps, strict=True) if r)


def build_rows(
    plan: list[Scenario],
    measured: dict[str, Measured],
    queries: dict[str, int],
    explain_ms: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """JSON rows and the printed table lines from the medians."""
    med = {
        name: {
            "rps": statistics.median(m.rps),
            "p50": statistics.median(m.p50),
            "p99": statistics.median(m.p99),
        }
        for name, m in measured.items()
    }
    rows: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for s in plan:
        ref = med[s.reference] if s.reference else None
        rps_row = make_row(
            f"{s.name}.rps",
            med[s.name]["rps"],
            "req/s",
            reference=f"{s.reference}.rps" if s.reference else None,
            reference_value=ref["rps"] if ref else None,
            target=s.target,
            ratio=paired_ratio(measured[s.name], measured[s.reference]) if s.reference else None,
        )
        rows.append(rps_row)
        for key in ("p50", "p99"):
            rows.append(
                make_row(
                    f"{s.name}.{key}_ms",
                    med[s.name][key],
                    "ms",
                    reference=f"{s.reference}.{key}_ms" if s.reference else None,
                    reference_value=ref[key] if ref else None,
                )
            )
        rows.append(make_row(f"{s.name}.queries", queries[s.name], "queries/request"))
        lines.append(
            {
                "name": s.name,
                **med[s.name],
                "reference": s.reference,
                "ratio": rps_row["ratio"],
                "target": s.target,
                "pass": rps_row["pass"],
                "queries": queries[s.name],
            }
        )
    for size in (1, 50):
        rows.append(
            make_row(
                f"resident_list.queries.page_size_{size}",
                queries[f"resident_list_{size}"],
                "queries/request",
                reference="resident_list.queries.page_size_1" if size == 50 else None,
                reference_value=queries["resident_list_1"] if size == 50 else None,
                target=1.0 if size == 50 else None,
                exact=True,
            )
        )
    rows.append(make_row("resident_list.sql_explain_analyze_ms", explain_ms, "ms"))
    return rows, lines


def git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def run(cfg: Config) -> int:
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (Debian: apt-get install wrk)")
    started = time.monotonic()
    env = cfg.environ()
    ensure_database(cfg.database_url)
    setup_django(cfg)
    from community.management.commands.seed_scale import BENCH_PASSWORD, BENCH_PHONE

    community_id, resident_id, count = prepare(cfg)
    plan = scenarios(community_id, resident_id)
    port = free_port()
    base = f"http://{HOST}:{port}"
    print(
        f"bench: {count} residents, gunicorn {WORKERS} sync workers on {base}, wrk "
        f"-c{cfg.connections}, {cfg.rounds} rounds × {cfg.duration}s × {len(plan)} scenarios; "
        f"commit {git_commit()}, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    with gunicorn(port, env) as proc:
        wait_ready(base, proc)
        cookies = login(base, BENCH_PHONE, BENCH_PASSWORD)
        cookie = f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}"
        for scenario in plan:
            preflight(base, scenario, cookie)
        paths = {s.name: s.path for s in plan}
        paths.update(
            {f"resident_list_{n}": f"/api/v1/residents/?page_size={n}" for n in (1, 20, 50)}
        )
        queries = count_queries(cookies["sessionid"], paths)
        explain_ms, plan_text = explain_list(BENCH_PHONE)
        (RESULTS_DIR / "explain_resident_list.txt").write_text(plan_text + "\n")
        measured = measure(base, cookie, plan, cfg)
    rows, lines = build_rows(plan, measured, queries, explain_ms)
    print()
    print(format_table(lines))
    print(
        f"queries/request of the list at page_size 1 / 20 / 50: {queries['resident_list_1']} / "
        f"{queries['resident_list_20']} / {queries['resident_list_50']}"
    )
    print(f"EXPLAIN ANALYZE of the list's first page: {explain_ms:.2f} ms")
    sockets = {n: m.socket_errors for n, m in measured.items() if m.socket_errors}
    if sockets:
        print(f"socket errors (connection resets, not failed requests): {sockets}")
    print(f"load average now {os.getloadavg()[0]:.2f}; took {time.monotonic() - started:.0f}s")
    write_rows(rows, LATEST)
    print(f"wrote {LATEST.relative_to(BASE_DIR)}")
    failed = failures(rows)
    for row in failed:
        print(
            f"TARGET MISSED: {row['name']} = {row['value']} {row['unit']}, ratio {row['ratio']} "
            f"to {row['reference']}, target {row['target']}",
            file=sys.stderr,
        )
    print("all targets met" if not failed else f"{len(failed)} target(s) missed")
    return 1 if failed else 0


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally that stops gunicorn


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(Config.from_env())
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
