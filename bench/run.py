"""`make bench` (`python -m bench.run`): load-test the project's endpoints on PostgreSQL.

1. Ensure the PostgreSQL database (BENCH_DATABASE_URL, default the local `linli_bench`),
   migrate it, seed the scale registry if absent (`seed_scale`, BENCH_RESIDENTS) and its
   points ledger (`seed_credit_scale`, BENCH_ENTRIES), give the busiest account's
   resident a supermarket item to redeem, refresh the ledger's reconciliation checkpoint
   (a full check), and collect static files (the login page needs the manifest).
2. Serve the project with gunicorn (2 sync workers, config.settings.bench: DEBUG off,
   persistent connections) on a free port of 127.0.0.1.
3. Log in over HTTP as the bench user (CSRF and all) and as the resident of the busiest
   points account; each scenario uses one of the two session cookies, and an endpoint
   and its reference always the same one.
4. Count SQL queries per request in-process (Django test Client, same database, same
   session), EXPLAIN ANALYZE the scoped list query.
5. Drive load with wrk from a separate process, interleaved over BENCH_ROUNDS rounds
   (>= 3) of BENCH_DURATION seconds per scenario; take the median over rounds.
6. Stop gunicorn; time the ledger reconciliation against a plain SUM over the entries:
   what `credit_reconcile` runs by default (incremental from the checkpoint refreshed in
   step 1, so the redemptions made under load are the new entries it adds up), then the
   full check (informative).
7. Print the table, write bench/results/latest.json; exit 1 if a target fails, 2 if the
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
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import grievances as grv
from bench import property as prop
from bench import volunteers as vol
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
#: Every redemption under load costs the resident a point: before a run the busiest
#: account is topped up to TOPUP_TO when it holds less than TOPUP_FLOOR (a run spends a
#: few tens of thousands at most).
TOPUP_FLOOR = 200_000
TOPUP_TO = 1_000_000
BENCH_ITEM_NAME = "压测兑换品 (bench, 1 point, unlimited)"
BENCH_WINDOW_NAME = "压测: always open (bench)"
RECONCILE_REPEATS = 3


@dataclass(frozen=True)
class Config:
    database_url: str
    redis_url: str
    residents: int
    entries: int
    rounds: int
    duration: int
    connections: int

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            database_url=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
            redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
            residents=int(os.environ.get("BENCH_RESIDENTS", "100000")),
            entries=int(os.environ.get("BENCH_ENTRIES", "1000000")),
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
    """A URL under load; `reference` names the scenario its throughput is compared with.

    `session`: whose login the requests carry ("staff": the bench user, "resident": the
    busiest points account's resident). `body`: JSON POSTed with a fresh Idempotency-Key
    on every request (GET when None).
    """

    name: str
    path: str
    reference: str | None = None
    target: float | None = None
    session: str = "staff"
    body: str | None = None


@dataclass(frozen=True)
class CreditSetup:
    """What the credit scenarios read and redeem as the resident of the busiest account."""

    resident_id: int
    account_id: int
    item_id: int
    account_entries: int
    entries: int
    accounts: int


@dataclass
class Measured:
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    socket_errors: int = 0


class BenchError(RuntimeError):
    """The harness could not measure (server down, login refused, errors under load)."""


def scenarios(
    community_id: int,
    resident_id: int,
    credit: CreditSetup | None = None,
    grievances: grv.GrievanceSetup | None = None,
    volunteers: vol.VolunteerSetup | None = None,
    property_setup: prop.PropertySetup | None = None,
) -> list[Scenario]:
    """References first, then the project's endpoints. Later issues append theirs here."""
    plan = [
        Scenario("R0", "/bench/r0/"),
        Scenario("R1", f"/bench/r1/{resident_id}/", reference="R0"),
        Scenario("R20", f"/bench/r20/?community={community_id}", reference="R0"),
        Scenario("resident_list", "/api/v1/residents/", reference="R20", target=0.5),
        Scenario(
            "resident_detail", f"/api/v1/residents/{resident_id}/", reference="R1", target=0.5
        ),
    ]
    if credit is None:
        return (
            plan
            + grievance_scenarios(grievances)
            + volunteer_scenarios(volunteers)
            + property_scenarios(property_setup)
        )
    # As the resident of the account with the most entries, endpoint and reference alike.
    mine = "resident"
    item = json.dumps({"item": credit.item_id})
    return [
        *plan,
        Scenario("R1_resident", f"/bench/r1/{credit.resident_id}/", session=mine),
        Scenario("R20_history", f"/bench/r20-history/?account={credit.account_id}", session=mine),
        Scenario("R_redeem", "/bench/redeem/", session=mine, body=item),
        Scenario(
            "credit_balance",
            "/api/v1/credit/me/balance/",
            reference="R1_resident",
            target=0.8,
            session=mine,
        ),
        Scenario(
            "credit_history",
            "/api/v1/credit/me/history/",
            reference="R20_history",
            target=0.5,
            session=mine,
        ),
        Scenario(
            "credit_redeem",
            "/api/v1/credit/shop/redemptions/",
            reference="R_redeem",
            target=0.5,
            session=mine,
            body=item,
        ),
        *grievance_scenarios(grievances),
        *volunteer_scenarios(volunteers),
        *property_scenarios(property_setup),
    ]


def grievance_scenarios(setup: grv.GrievanceSetup | None) -> list[Scenario]:
    """The board list and filing a hotline call, as the bench user (community staff)."""
    if setup is None:
        return []
    body = setup.file_body()
    return [
        Scenario("R20_grievances", f"/bench/r20-grievances/?community={setup.community_id}"),
        Scenario("R_file", "/bench/file/", body=body),
        Scenario("grievance_board", "/api/v1/grievances/", reference="R20_grievances", target=0.5),
        Scenario(
            "grievance_file", "/api/v1/grievances/", reference="R_file", target=0.5, body=body
        ),
    ]


def volunteer_scenarios(setup: vol.VolunteerSetup | None) -> list[Scenario]:
    """The volunteer's home and "my hours" pages, as the benchmark's volunteer, each next
    to the R20 reference requested with the same session."""
    if setup is None:
        return []
    r20 = f"/bench/r20/?community={setup.community_id}"
    mine = "volunteer"
    return [
        Scenario("R20_volunteer_upcoming", r20, session=mine),
        Scenario("R20_volunteer_my_hours", r20, session=mine),
        Scenario("R20_volunteer_home", r20, session=mine),
        Scenario("R20_volunteer_hours", r20, session=mine),
        # The targets: the two lists as the API serves them (as the other lists are
        # judged: residents, history, the dispatch board).
        Scenario(
            "volunteer_upcoming_api",
            vol.UPCOMING_API_PATH,
            reference="R20_volunteer_upcoming",
            target=0.5,
            session=mine,
        ),
        Scenario(
            "volunteer_hours_api",
            vol.HOURS_API_PATH + "?limit=20",
            reference="R20_volunteer_my_hours",
            target=0.5,
            session=mine,
        ),
        # The phone pages themselves (HTML, the whole layout), next to R20 too:
        # informative.
        Scenario("volunteer_home", vol.HOME_PATH, reference="R20_volunteer_home", session=mine),
        Scenario("volunteer_hours", vol.HOURS_PATH, reference="R20_volunteer_hours", session=mine),
    ]


def property_scenarios(setup: prop.PropertySetup | None) -> list[Scenario]:
    """An estate's collection rate for a month, as the bench user (community staff): the
    API judged, the office's HTML page informative, each next to an R20 of its own."""
    if setup is None:
        return []
    r20 = f"/bench/r20/?community={setup.community_id}"
    return [
        Scenario("R20_property_collection", r20),
        Scenario("R20_property_page", r20),
        Scenario(
            "property_collection_api",
            setup.api_path(),
            reference="R20_property_collection",
            target=0.5,
        ),
        Scenario("property_collection_page", setup.page_path(), reference="R20_property_page"),
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


def _lua_string(text: str) -> str:
    """`text` as a double-quoted Lua string literal (printable ASCII only)."""
    if not all(" " <= ch <= "~" for ch in text):
        raise ValueError(f"not printable ASCII: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def post_script(body: str, csrf_token: str, key_prefix: str) -> str:
    """A wrk Lua script: POST `body` as JSON with a new Idempotency-Key on every request.

    Keys are `key_prefix`-1, -2, …: the prefix must be new for every wrk run (wrk's
    math.random repeats its sequence from run to run, and a repeated key is a replay, not
    a redemption). wrk.format replaces wrk.headers with the table it is given, so the
    request copies them (the -H Cookie, Host) and adds the key.
    """
    return "\n".join(
        [
            "-- generated by bench.run.post_script",
            'wrk.method = "POST"',
            f"wrk.body = {_lua_string(body)}",
            'wrk.headers["Content-Type"] = "application/json"',
            f'wrk.headers["X-CSRFToken"] = {_lua_string(csrf_token)}',
            "local counter = 0",
            "request = function()",
            "  counter = counter + 1",
            "  local headers = {}",
            "  for name, value in pairs(wrk.headers) do headers[name] = value end",
            f'  headers["Idempotency-Key"] = {_lua_string(key_prefix + "-")} .. counter',
            "  return wrk.format(nil, nil, headers)",
            "end",
            "",
        ]
    )


def run_wrk(
    url: str, cookie: str, duration: int, connections: int, script: str | None = None
) -> dict[str, float]:
    """One wrk run; `script`: Lua text (POST scenarios), written to a file for the run."""
    if script is not None:
        with tempfile.NamedTemporaryFile(
            "w", suffix=".lua", prefix="wrk-", dir=RESULTS_DIR, delete=False
        ) as handle:
            handle.write(script)
        try:
            return _run_wrk(url, cookie, duration, connections, ["-s", handle.name])
        finally:
            Path(handle.name).unlink(missing_ok=True)
    return _run_wrk(url, cookie, duration, connections, [])


def _run_wrk(
    url: str, cookie: str, duration: int, connections: int, extra: list[str]
) -> dict[str, float]:
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
        *extra,
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


def preflight(base: str, scenario: Scenario, cookies: dict[str, str]) -> None:
    """Every URL answers 200 (a POST: 201) with its session before any load is put on it."""
    headers = {"Cookie": session_cookie(cookies)}
    data = None
    if scenario.body is not None:
        data = scenario.body.encode()
        headers.update(
            {
                "Content-Type": "application/json",
                "X-CSRFToken": cookies["csrftoken"],
                "Idempotency-Key": f"preflight-{uuid.uuid4().hex}",
            }
        )
    request = urllib.request.Request(base + scenario.path, data=data, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        raise BenchError(f"{scenario.name} {scenario.path} answered {exc.code}: {detail}") from exc
    if scenario.body is not None and status != 201:
        raise BenchError(f"{scenario.name} answered {status}, not 201 Created")
    if scenario.name in (
        "R20",
        "R20_volunteer_home",
        "R20_volunteer_hours",
        "resident_list",
        "R20_history",
        "credit_history",
        "R20_grievances",
        "grievance_board",
    ):
        rows = json.loads(body)["results"]
        if len(rows) != 20:
            raise BenchError(f"{scenario.name} returned {len(rows)} rows, not 20")


def session_cookie(cookies: dict[str, str]) -> str:
    return f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}"


def wrk_script(scenario: Scenario, cookies: dict[str, str]) -> str | None:
    """The Lua script of a POST scenario (a fresh key prefix each call), None for a GET."""
    if scenario.body is None:
        return None
    prefix = f"bench-{scenario.name}-{uuid.uuid4().hex[:12]}"
    return post_script(scenario.body, cookies["csrftoken"], prefix)


# --- in-process measurements ---------------------------------------------------------


def count_queries(
    session_id: str, paths: dict[str, str], posts: dict[str, tuple[str, str]] | None = None
) -> dict[str, int]:
    """SQL queries per request, with the same session, through the whole middleware stack.

    `posts`: name -> (path, JSON body), POSTed with a new Idempotency-Key each time (the
    test Client skips the CSRF check, as DRF does for it); they must answer 201.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME=HOST)
    client.cookies["sessionid"] = session_id
    counts = {}
    requests: list[tuple[str, str, str | None]] = [(n, p, None) for n, p in paths.items()]
    requests += [(n, p, body) for n, (p, body) in (posts or {}).items()]
    for name, path, body in requests:
        for warm in (True, False):  # warm: anything cached per process is not counted
            with CaptureQueriesContext(connection) as ctx:
                if body is None:
                    response = client.get(path)
                else:
                    response = client.post(
                        path,
                        body,
                        content_type="application/json",
                        headers={"Idempotency-Key": f"count-{uuid.uuid4().hex}"},
                    )
            if warm:
                continue
            expected = 200 if body is None else 201
            if response.status_code != expected:
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


@dataclass(frozen=True)
class ReconcileTiming:
    """Medians (ms): `credit_reconcile` as it runs by default, a plain SUM, the full check."""

    default: float
    plain: float
    full: float
    ok: bool
    #: Of the last default run: 0 when it was a full check (no checkpoint).
    since_entry_id: int
    new_entries: int


def time_reconciliation(repeats: int = RECONCILE_REPEATS) -> ReconcileTiming:
    """`ledger_reconciliation()` as `credit_reconcile` runs it, and `--full`, against a SUM.

    Each interleaved with a plain SUM over every entry, in-process, with nothing else
    running. The default (incremental) runs come first: a full check writes a fresh
    checkpoint, after which the redemptions made under load are no longer new.
    """
    from django.db import connection

    from credit.services.reconciliation import ledger_reconciliation

    def timed(work: Any) -> tuple[float, Any]:
        started = time.perf_counter()
        result = work()
        return (time.perf_counter() - started) * 1000, result

    def plain_sum() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT SUM(amount) FROM credit_pointsentry")
            cursor.fetchone()

    default: list[float] = []
    full: list[float] = []
    plain: list[float] = []
    reports: list[Any] = []
    for runs, check in (
        (default, ledger_reconciliation),
        (full, lambda: ledger_reconciliation(full=True)),
    ):
        for _round in range(repeats):
            plain.append(timed(plain_sum)[0])
            took, report = timed(check)
            runs.append(took)
            reports.append(report)
    last_default = reports[repeats - 1]
    return ReconcileTiming(
        default=statistics.median(default),
        plain=statistics.median(plain),
        full=statistics.median(full),
        ok=all(report.ok for report in reports),
        since_entry_id=last_default.since_entry_id,
        new_entries=last_default.new_entries,
    )


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


def prepare_credit(cfg: Config, community_id: int) -> CreditSetup:
    """Seed the ledger if absent; an item to redeem, an open window, points to spend.

    The item costs 1 point, has no stock and no per-resident limit, and the community's
    supermarket is always open (a window of its own), so every redemption under load
    succeeds; all of it is created once and found again on later runs.
    """
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import F, Q

    from credit.management.commands.seed_credit_scale import RESIDENT_PHONE
    from credit.models import ExchangeWindow, PointsAccount, PointsEntry, SupermarketItem
    from credit.services.ledger import system_account
    from credit.services.reconciliation import ledger_reconciliation

    call_command("seed_credit_scale", entries=cfg.entries)
    account = PointsAccount.objects.select_related("resident").get(
        resident__user__phone=RESIDENT_PHONE
    )
    SupermarketItem.objects.update_or_create(
        community_id=community_id,
        name=BENCH_ITEM_NAME,
        defaults={
            "points_price": 1,
            "stock": None,
            "limit_per_resident": None,
            "is_active": True,
        },
    )
    item = SupermarketItem.objects.get(community_id=community_id, name=BENCH_ITEM_NAME)
    ExchangeWindow.objects.update_or_create(
        community_id=community_id,
        name=BENCH_WINDOW_NAME,
        defaults={"always_open": True, "valid_from": dt.date(2020, 1, 1), "valid_to": None},
    )
    if account.balance < TOPUP_FLOOR:
        # An award from the community's issuance account, written as the services write
        # it (entry, then the cached balance), so credit_reconcile still adds up.
        amount = TOPUP_TO - account.balance
        issuance = system_account(community_id=community_id, kind=PointsAccount.Kind.ISSUANCE)
        with transaction.atomic():
            PointsEntry.objects.create(
                kind=PointsEntry.Kind.AWARD,
                debit_account=issuance,
                credit_account=account,
                amount=amount,
                community_id=community_id,
                idempotency_key=f"bench-topup:{uuid.uuid4().hex}",
                note="bench top-up",
            )
            PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
        print(f"topped up account {account.pk} by {amount} points")
    # The reconciliation checkpoint, fresh as the nightly task leaves it, before any load:
    # what `credit_reconcile` adds up at the end (time_reconciliation) is then the
    # redemptions made under load. A full check, a second or two.
    refreshed = ledger_reconciliation(full=True)
    print(
        f"reconciliation checkpoint at entry {refreshed.checkpoint_entry_id}"
        if refreshed.checkpoint_entry_id is not None
        else "reconciliation checkpoint NOT refreshed"
        + ("" if refreshed.ok else ": THE LEDGER DID NOT RECONCILE (drift)")
    )
    # Planner statistics, as autovacuum keeps them in a running database: bulk-loaded
    # tables that were never analysed get row estimates of nothing, and the plans (the
    # history's OR over two indexes, the reconciliation's grouped sums) are then not the
    # ones production runs. A few seconds.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    mine = PointsEntry.objects.filter(Q(credit_account=account) | Q(debit_account=account))
    assert account.resident_id is not None
    return CreditSetup(
        resident_id=account.resident_id,
        account_id=account.pk,
        item_id=item.pk,
        account_entries=mine.count(),
        entries=PointsEntry.objects.count(),
        accounts=PointsAccount.objects.filter(kind=PointsAccount.Kind.RESIDENT).count(),
    )


def blocks(plan: list[Scenario]) -> list[list[Scenario]]:
    """Each judged endpoint with its reference, the other scenarios alone."""
    by_name = {s.name: s for s in plan}
    paired = [[by_name[s.reference], s] for s in plan if s.target is not None and s.reference]
    taken = {s.name for block in paired for s in block}
    return paired + [[s] for s in plan if s.name not in taken]


def measure(
    base: str, sessions: dict[str, dict[str, str]], plan: list[Scenario], cfg: Config
) -> dict[str, Measured]:
    """`sessions`: the cookies of each login, by Scenario.session."""
    results = {s.name: Measured() for s in plan}

    def load(scenario: Scenario, duration: int) -> dict[str, float]:
        cookies = sessions[scenario.session]
        return run_wrk(
            base + scenario.path,
            session_cookie(cookies),
            duration,
            cfg.connections,
            wrk_script(scenario, cookies),
        )

    for scenario in plan:  # warm-up, not recorded
        load(scenario, 1)
    order = blocks(plan)
    for round_no in range(cfg.rounds):
        # Interleaved: an endpoint runs right next to its reference, so both see the same
        # machine; blocks rotate and pairs swap order each round, so drift on a noisy
        # machine spreads evenly instead of always hurting the same scenario.
        shift = round_no % len(order)
        for block in order[shift:] + order[:shift]:
            for scenario in block if round_no % 2 == 0 else block[::-1]:
                got = load(scenario, cfg.duration)
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
    reconcile_ms: tuple[float, float, float] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """JSON rows and the printed table lines from the medians.

    `reconcile_ms`: (`credit_reconcile` as it runs by default, plain SUM over the entries,
    `credit_reconcile --full`), medians in ms.
    """
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
    if reconcile_ms is not None:
        default, plain, full = reconcile_ms
        rows.append(make_row("entries_sum.ms", plain, "ms"))
        rows.append(
            make_row(
                "credit_reconcile.ms",
                default,
                "ms",
                reference="entries_sum.ms",
                reference_value=plain,
                target=5.0,
                at_most=True,
            )
        )
        # The weekly full check (and `--full`): informative, no target.
        rows.append(
            make_row(
                "credit_reconcile_full.ms",
                full,
                "ms",
                reference="entries_sum.ms",
                reference_value=plain,
            )
        )
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
    from credit.management.commands.seed_credit_scale import RESIDENT_PHONE
    from volunteers.management.commands.seed_volunteer_scale import (
        BENCH_VOLUNTEER_PHONE as VOLUNTEER_PHONE,
    )

    community_id, resident_id, count = prepare(cfg)
    credit = prepare_credit(cfg, community_id)
    grievances = grv.prepare_grievances(env, cfg.residents, ensure_database)
    volunteers = vol.prepare_volunteers(community_id)
    # After the grievances: seed_grievance_scale files over every household it finds.
    property_setup = prop.prepare_property(community_id)
    plan = scenarios(community_id, resident_id, credit, grievances, volunteers, property_setup)
    port = free_port()
    base = f"http://{HOST}:{port}"
    print(
        f"bench: {count} residents, {credit.entries} ledger entries over {credit.accounts} "
        f"resident accounts (the busiest, read and redeemed as {RESIDENT_PHONE}: "
        f"{credit.account_entries} entries); gunicorn {WORKERS} sync workers on {base}, wrk "
        f"-c{cfg.connections}, {cfg.rounds} rounds × {cfg.duration}s × {len(plan)} scenarios; "
        f"commit {git_commit()}, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    with gunicorn(port, env) as proc:
        wait_ready(base, proc)
        sessions = {
            "staff": login(base, BENCH_PHONE, BENCH_PASSWORD),
            "resident": login(base, RESIDENT_PHONE, BENCH_PASSWORD),
            "volunteer": login(base, VOLUNTEER_PHONE, BENCH_PASSWORD),
        }
        for scenario in plan:
            preflight(base, scenario, sessions[scenario.session])
        queries: dict[str, int] = {}
        for session, cookies in sessions.items():
            mine = [s for s in plan if s.session == session]
            paths = {s.name: s.path for s in mine if s.body is None}
            if session == "staff":
                paths.update(
                    {f"resident_list_{n}": f"/api/v1/residents/?page_size={n}" for n in (1, 20, 50)}
                )
                paths.update(
                    {
                        f"grievance_board_{n}": f"/api/v1/grievances/?page_size={n}"
                        for n in (1, 20, 50)
                    }
                )
            posts = {s.name: (s.path, s.body) for s in mine if s.body is not None}
            queries.update(count_queries(cookies["sessionid"], paths, posts))
        volunteer_queries = vol.page_queries(volunteers)
        property_queries = prop.page_queries(property_setup, BENCH_PHONE)
        explain_ms, plan_text = explain_list(BENCH_PHONE)
        (RESULTS_DIR / "explain_resident_list.txt").write_text(plan_text + "\n")
        measured = measure(base, sessions, plan, cfg)
    # gunicorn is stopped: the reconciliation has the database to itself.
    reconcile = time_reconciliation()
    # ... and so have the sweep's batch query and the sweep passes (grievances).
    sweep_batch = grv.time_batch_query()
    (RESULTS_DIR / "explain_sweep_batch.txt").write_text(
        f"-- with {grv.DUE_INDEX}\n{sweep_batch.plan_with}\n\n"
        f"-- without it\n{sweep_batch.plan_without}\n\n"
        f"-- with no index at all (index scans off)\n{sweep_batch.plan_no_index}\n"
    )
    sweeps = grv.time_sweeps(env, grievances.small_database_url)
    # ... and the scorecards of every provider for a quarter, by the selector and by hand.
    scorecards = prop.time_scorecards(property_setup)
    # ... and the volunteers' hours statistics, by the selector's query and by hand.
    volunteer_stats = vol.time_statistics(volunteers)
    (RESULTS_DIR / "explain_volunteer_stats.txt").write_text(
        f"-- hours_statistics_query\n{volunteer_stats.plan_orm}\n\n"
        f"-- by hand\n{volunteer_stats.plan_sql}\n"
    )
    rows, lines = build_rows(
        plan,
        measured,
        queries,
        explain_ms,
        reconcile_ms=(reconcile.default, reconcile.plain, reconcile.full),
    )
    print()
    print(format_table(lines))
    print(
        f"queries/request of the list at page_size 1 / 20 / 50: {queries['resident_list_1']} / "
        f"{queries['resident_list_20']} / {queries['resident_list_50']}"
    )
    print(f"EXPLAIN ANALYZE of the list's first page: {explain_ms:.2f} ms")
    rows += grv.timing_rows(sweep_batch, sweeps) + grv.query_count_rows(queries)
    print(
        "queries/request of the grievance list at page_size 1 / 20 / 50: "
        + " / ".join(str(queries[f"grievance_board_{n}"]) for n in (1, 20, 50))
    )
    print(grv.summary(sweep_batch, sweeps))
    rows += vol.query_count_rows(volunteer_queries) + vol.timing_rows(volunteer_stats)
    print(vol.summary(volunteers, volunteer_queries, volunteer_stats))
    rows += prop.query_count_rows(property_queries) + prop.timing_rows(scorecards)
    print(prop.summary(property_setup, property_queries, scorecards))
    reconcile_row = next(r for r in rows if r["name"] == "credit_reconcile.ms")
    full_row = next(r for r in rows if r["name"] == "credit_reconcile_full.ms")
    how = (
        f"incremental from entry {reconcile.since_entry_id} + {reconcile.new_entries} newer"
        if reconcile.since_entry_id
        else "full: no checkpoint"
    )
    print(
        f"reconciliation of all accounts ({how}): {reconcile.default:.0f} ms vs SUM over the "
        f"entries {reconcile.plain:.0f} ms, ratio {reconcile_row['ratio']:.2f} (target <= 5): "
        f"{'yes' if reconcile_row['pass'] else 'NO'}; full check {reconcile.full:.0f} ms "
        f"({full_row['ratio']:.2f} x)"
        + ("" if reconcile.ok else "; THE LEDGER DID NOT RECONCILE (drift)")
    )
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
    except (
        BenchError,
        grv.GrievanceBenchError,
        vol.VolunteerBenchError,
        prop.PropertyBenchError,
    ) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
