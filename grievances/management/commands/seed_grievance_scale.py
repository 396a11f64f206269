"""`manage.py seed_grievance_scale --grievances N --running R`: grievances for benchmarks.

Runs after `seed_scale`, in its community (规模测试社区). Creates the seeded categories and
SLA policies (`categories_install`), a community office organization, and N made-up
grievances over the community's households, as a running office would have them at
AS_OF (Friday 20 November 2026, 10:00 in Shanghai):

- closed history (most of N, submitted over the two years before AS_OF, oldest first):
  closed with both clocks of their tier stopped (about one in six late, so breached,
  a third warned, with their SlaEvent rows), a few rejected or merged (no clocks);
- R RUNNING clocks on the newest grievances: on site (the arrive clock met, the tier's
  clock running), one in fifty still waiting for the handler to arrive (both running);
- R/10 open grievances without a running clock: submitted, accepted, dispatched and not
  yet accepted, waiting (clock paused), resolved (awaiting the resident's verdict).

The clocks are as a sweep running every 10 seconds left them an hour before AS_OF
(BACKLOG): warned, breached and escalated up to then, with their events. So a sweep at
AS_OF has an hour's work waiting (the benchmark's "sweep after an outage"): about 1 % of
the running clocks to breach, 1 % to warn (and some more of the short ones), and the
escalations due in that hour. Which clocks those are depends only on R and the seed,
never on N, so two databases seeded with the same R and different N have exactly the
same due work (bench.grievances times the sweep over both). The clocks' due times are drawn directly (due, then warn and start
from the target); a working-day clock's target is taken as 7/5 calendar days per working
day and its escalation rungs as one calendar day: close enough for load data, and the
sweep reads only the columns.

Also written, because they are cheap: two timeline lines per grievance (filed, and its
last status change), a dispatch for every open grievance in a handler's hands. Not
written: history rows (django-simple-history), dispatches and ratings of closed
grievances, photos, notifications.

Rows go in with PostgreSQL's COPY, in one transaction, with the foreign-key triggers
off for it (`session_replication_role = replica`, superuser only; every reference is
built from rows read or written here, so the checks could not fail) and ids taken
from the tables' sequences' ends under an EXCLUSIVE lock. Then VACUUM ANALYZE: fresh
statistics and a visibility map, as autovacuum would leave them. 1,000,000 grievances take
a few minutes on two cores.

Idempotent: with N grievances or more in the community it does nothing; with fewer it adds
closed history up to N (and running clocks up to R, if fewer run).
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import json
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.db.models import Min

from accounts.models import User
from community.management.commands.seed_scale import BENCH_PHONE, COMMUNITY_CODE
from community.models import Community, Household, Organization, Resident
from grievances.categories import categories_install
from grievances.models import (
    Category,
    Dispatch,
    Grievance,
    SlaClock,
    SlaClockSpec,
    SlaEvent,
    TimelineEvent,
    Trigger,
)
from grievances.sla.clocks import spec_snapshot
from grievances.sla.escalation import MIN_RUNG, TOP_LEVEL

#: The moment the data describes; the benchmark's sweep runs at it.
AS_OF = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
#: The clocks are as a sweep left them this long before AS_OF.
BACKLOG = dt.timedelta(hours=1)
#: How far back the closed history goes.
HISTORY = dt.timedelta(days=730)
OFFICE_NAME = "规模测试社区居委会"
CHUNK = 50_000  # grievances per COPY round
SWEEP_LAG = dt.timedelta(seconds=5)  # how long after a due time the (10 s) sweep saw it

#: Leaf category code -> weight (how often residents report it).
CATEGORY_WEIGHTS = {
    "repair-leak": 12,
    "repair-door-window": 5,
    "repair-pipe": 6,
    "repair-septic": 1,
    "facility-manhole": 3,
    "facility-streetlight": 6,
    "facility-lift": 6,
    "facility-stair-light": 5,
    "sanitation-garbage": 12,
    "sanitation-greenery": 4,
    "parking-occupied": 8,
    "parking-illegal": 8,
    "neighbour-noise": 6,
    "neighbour-leak": 3,
    "safety-fire-lane": 4,
    "safety-flying-lead": 3,
    "property-service": 5,
    "suggestion": 3,
}
CHANNELS = (
    (Grievance.Channel.PORTAL, 35),
    (Grievance.Channel.GRID_WORKER, 25),
    (Grievance.Channel.HOTLINE, 25),
    (Grievance.Channel.SUGGESTION_BOX, 5),
    (Grievance.Channel.PATROL, 10),
)
CHANNEL_NAMES = {
    "portal": "居民端提交",
    "grid_worker": "网格员上报",
    "hotline": "热线受理",
    "suggestion_box": "意见箱",
    "patrol": "巡查发现",
}
DESCRIPTIONS = (
    "请尽快派人处理，谢谢。",
    "已经好几天了，影响日常生活。",
    "邻居也反映过，希望物业尽快解决。",
    "老人家里不方便，麻烦上门看看。",
)
#: The status before the last change, for the grievance's second timeline line.
PREVIOUS: dict[str, str] = {
    "closed": "resolved",
    "resolved": "on_site",
    "on_site": "dispatched",
    "waiting": "on_site",
    "dispatched": "accepted",
}
REJECTION = "不属于本社区受理范围，已告知来电人向相关部门反映。"
WAITING = "等待配件到货"

Status = Grievance.Status
State = SlaClock.State
EventKind = SlaEvent.Kind
LineKind = TimelineEvent.Kind


# --- COPY rows ------------------------------------------------------------------------------


def _escape(text: str) -> str:
    """A value for COPY's text format (backslash, tab and line breaks escaped)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _value(value: Any) -> str:
    """Any Python value as COPY text: None is NULL."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds()} seconds"
    if isinstance(value, dict | list):
        return _escape(json.dumps(value, ensure_ascii=False))
    return _escape(str(value))


def _ts(value: dt.datetime | None) -> str:
    return "\\N" if value is None else value.isoformat()


def _id(value: int | None) -> str:
    return "\\N" if value is None else str(value)


class Table:
    """COPY lines of one model: the columns the seed sets, then every other column's
    default (so a column added later with a default needs no change here)."""

    def __init__(self, model: type[models.Model], columns: Iterable[str]) -> None:
        self.model = model
        self.name = model._meta.db_table
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.columns = list(columns)
        unknown = set(self.columns) - set(fields)
        if unknown:
            raise CommandError(f"{self.name} has no column(s) {sorted(unknown)}")
        rest = []
        for attname, field in fields.items():
            if attname in self.columns or attname == "id":
                continue
            default = field.get_default()  # "" for text without a default
            if default is None and not field.null:
                raise CommandError(
                    f"{self.name}.{attname} has no default: seed_grievance_scale must set it"
                )
            rest.append((field.column, default))
        self.sql_columns: list[str] = [
            "id",
            *(str(fields[c].column) for c in self.columns),
            *(str(c) for c, _d in rest),
        ]
        self.suffix = "".join("\t" + _value(default) for _c, default in rest) + "\n"
        self.lines: list[str] = []
        self.rows = 0

    def add(self, pk: int, values: Iterable[str]) -> None:
        """One row: its id and the seed's columns, already as COPY text."""
        self.lines.append(str(pk) + "\t" + "\t".join(values) + self.suffix)

    def flush(self, cursor: Any) -> None:
        if not self.lines:
            return
        columns = ", ".join(connection.ops.quote_name(c) for c in self.sql_columns)
        buffer = io.StringIO("".join(self.lines))
        cursor.copy_expert(
            f"COPY {connection.ops.quote_name(self.name)} ({columns}) FROM STDIN", buffer
        )
        self.rows += len(self.lines)
        self.lines = []


# --- what the grievances are about ------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    household_id: int
    unit_id: int
    building_id: int
    estate_id: int
    company_id: int | None
    label: str
    resident_id: int | None


@dataclass(frozen=True)
class ClockSpec:
    kind: str
    policy_id: int
    snapshot: str  # COPY text of the JSON snapshot
    target: dt.timedelta  # calendar time (working days × 7/5)
    warn: dt.timedelta | None  # from the start
    rung: dt.timedelta  # between escalation rungs


@dataclass(frozen=True)
class Kind:
    """A leaf category as the seed uses it."""

    category_id: int
    name: str
    tier: str
    handler: str
    private: bool
    clocks: tuple[ClockSpec, ...]  # arrive first, then the tier's own clock


def _clock_spec(spec: SlaClockSpec) -> ClockSpec:
    if spec.calendar == SlaClockSpec.Calendar.WORKING_DAYS:
        target = dt.timedelta(days=(spec.target_days or 1) * 7 / 5)
        rung = dt.timedelta(days=1)
    else:
        target = dt.timedelta(minutes=spec.target_minutes or 1)
        rung = max(target, MIN_RUNG)
    percent = spec.warn_percent
    return ClockSpec(
        kind=spec.kind,
        policy_id=spec.policy_id,
        snapshot=_value(spec_snapshot(spec)),
        target=target,
        warn=target * percent / 100 if percent else None,
        rung=rung,
    )


def _kinds(installed: dict[str, Category]) -> tuple[list[Kind], list[int]]:
    """The leaf categories with their clocks (those started on the handler's acceptance that
    apply to the category's tier), and their weights."""
    kinds: list[Kind] = []
    weights: list[int] = []
    for code, weight in CATEGORY_WEIGHTS.items():
        category = installed.get(code)
        if category is None or not category.is_active:
            continue
        policy = category.sla_policy or (category.parent.sla_policy if category.parent else None)
        clocks: list[ClockSpec] = []
        if policy is not None:
            specs = policy.specs.filter(start_on=Trigger.DISPATCH_ACCEPTED).select_related("policy")
            wanted = [s for s in specs if s.tier in ("", category.default_tier)]
            wanted.sort(key=lambda s: (s.kind != SlaClockSpec.Kind.ARRIVE, s.kind))
            clocks = [_clock_spec(s) for s in wanted]
        kinds.append(
            Kind(
                category_id=category.pk,
                name=category.name,
                tier=category.default_tier,
                handler=category.default_handler,
                private=category.is_private,
                clocks=tuple(clocks),
            )
        )
        weights.append(weight)
    if not kinds:
        raise CommandError("no grievance categories: categories_install() created none")
    return kinds, weights


def _places(community: Community) -> list[Place]:
    heads = dict(
        Resident.objects.filter(household__unit__building__estate__community=community)
        .values("household_id")
        .annotate(first=Min("id"))
        .values_list("household_id", "first")
    )
    rows = (
        Household.objects.filter(unit__building__estate__community=community)
        .order_by("id")
        .values_list(
            "id",
            "unit_id",
            "unit__building_id",
            "unit__building__estate_id",
            "unit__building__estate__property_company_id",
            "unit__building__number",
            "unit__number",
            "room",
        )
    )
    return [
        Place(hh, unit, building, estate, company, f"{b_no}{u_no}{room}", heads.get(hh))
        for hh, unit, building, estate, company, b_no, u_no, room in rows
    ]


# --- the command ----------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Bulk-load N made-up grievances with their SLA clocks (R of them running) into the "
        f"seed_scale community ({COMMUNITY_CODE}), as of {AS_OF:%Y-%m-%d %H:%M} UTC, for "
        "benchmarks. PostgreSQL only (COPY). Does nothing when N are there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--grievances", type=int, default=1_000_000, help="total wanted")
        parser.add_argument("--running", type=int, default=50_000, help="running clocks")
        parser.add_argument("--seed", type=int, default=2026, help="random seed")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if connection.vendor != "postgresql":
            raise CommandError("seed_grievance_scale loads with COPY: PostgreSQL only")
        total: int = options["grievances"]
        running: int = options["running"]
        if total < 0 or running < 0:
            raise CommandError("--grievances and --running are counts")
        community = Community.objects.filter(code=COMMUNITY_CODE).first()
        if community is None:
            raise CommandError("run `manage.py seed_scale` first")
        kinds, weights = _kinds(categories_install())
        office, _created = Organization.objects.get_or_create(
            kind=Organization.Kind.COMMUNITY_OFFICE,
            name=OFFICE_NAME,
            defaults={"community": community, "street": community.street},
        )
        have = Grievance.objects.filter(community=community).count()
        if have >= total:
            self.stdout.write(f"nothing to do: {have} grievances already (>= {total})")
            return
        running_have = SlaClock.objects.filter(
            grievance__community=community, state=State.RUNNING
        ).count()
        plan = Plan.make(running=max(0, running - running_have), missing=total - have)
        places = _places(community)
        if not places:
            raise CommandError("the scale community has no households: run seed_scale")
        staff_id = User.objects.filter(phone=BENCH_PHONE).values_list("id", flat=True).first()
        loader = Loader(
            community_id=community.pk,
            office_id=office.pk,
            staff_id=staff_id,
            kinds=kinds,
            weights=weights,
            places=places,
            seed=options["seed"],
        )
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            _fk_checks_off(cursor)
            tables = loader.tables()
            cursor.execute(
                "LOCK TABLE "
                + ", ".join(connection.ops.quote_name(t.name) for t in tables.values())
                + " IN EXCLUSIVE MODE"
            )
            loader.next_ids(cursor, tables)
            loader.load(cursor, tables, plan)
            for table in tables.values():
                quoted = connection.ops.quote_name(table.name)
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 (own table)
                    f"(SELECT COALESCE(MAX(id), 1) FROM {quoted}))",
                    [table.name],
                )
        loaded = time.monotonic() - started
        with connection.cursor() as cursor:
            # Statistics and the visibility map, as autovacuum would leave them.
            cursor.execute(
                "VACUUM ANALYZE "
                + ", ".join(connection.ops.quote_name(t.name) for t in tables.values())
            )
        counts = ", ".join(f"{t.rows} {t.model._meta.model_name}" for t in tables.values())
        self.stdout.write(
            f"created {counts} ({plan.running_clocks} running clocks) in {loaded:.0f}s, "
            f"vacuumed in {time.monotonic() - started - loaded:.0f}s"
        )


def _fk_checks_off(cursor: Any) -> None:
    """Foreign-key triggers off for this transaction when allowed (superuser): every
    reference is built from rows read or written here. Else they stay on, only slower."""
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cursor.fetchone()
    if row and row[0]:
        cursor.execute("SET LOCAL session_replication_role = replica")


@dataclass(frozen=True)
class Plan:
    """How many of each sort of grievance to write."""

    two_running: int  # dispatched, the handler not there yet: arrive + the tier's clock
    one_running: int  # on site: the tier's clock
    submitted: int
    accepted: int
    pending: int  # dispatched, not accepted yet
    waiting: int
    resolved: int
    closed: int  # closed, rejected and merged history

    @classmethod
    def make(cls, *, running: int, missing: int) -> Plan:
        two = running // 50
        one = running - 2 * two
        extra = running // 10
        submitted = extra * 4 // 10
        accepted = extra * 2 // 10
        pending = extra * 2 // 10
        waiting = extra // 10
        resolved = extra - submitted - accepted - pending - waiting
        closed = missing - (two + one + extra)
        if closed < 0:
            raise CommandError(
                f"{missing} grievances to add cannot hold {running} running clocks: "
                f"at least {two + one + extra} are needed"
            )
        return cls(two, one, submitted, accepted, pending, waiting, resolved, closed)

    @property
    def running_clocks(self) -> int:
        return 2 * self.two_running + self.one_running


GRIEVANCE_COLUMNS = (
    "community_id",
    "estate_id",
    "building_id",
    "unit_id",
    "household_id",
    "category_id",
    "title",
    "description",
    "channel",
    "status",
    "tier",
    "reporter_id",
    "submitted_by_id",
    "is_anonymous",
    "is_public",
    "handler_organization_id",
    "merged_into_id",
    "rejection_reason",
    "waiting_reason",
    "waiting_from",
    "submitted_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "updated_at",
)
CLOCK_COLUMNS = (
    "grievance_id",
    "kind",
    "policy_id",
    "spec",
    "state",
    "started_at",
    "due_at",
    "warn_at",
    "escalate_at",
    "escalation_level",
    "paused_at",
    "warned_at",
    "breached_at",
    "met_at",
)
EVENT_COLUMNS = ("clock_id", "kind", "level", "due_at", "recorded_at")
LINE_COLUMNS = ("grievance_id", "kind", "at", "actor_id", "old_value", "new_value", "note")
DISPATCH_COLUMNS = (
    "grievance_id",
    "organization_id",
    "status",
    "created_at",
    "decided_at",
    "dispatched_by_id",
)


class Loader:
    """Builds the rows (deterministically from the seed) and COPYs them chunk by chunk."""

    def __init__(
        self,
        *,
        community_id: int,
        office_id: int,
        staff_id: int | None,
        kinds: list[Kind],
        weights: list[int],
        places: list[Place],
        seed: int,
    ) -> None:
        self.community_id = community_id
        self.office_id = office_id
        self.staff_id = staff_id
        self.kinds = kinds
        self.clocked = [k for k in kinds if k.clocks]
        self.cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]
        self.clocked_cumulative = []
        acc = 0
        for kind, weight in zip(kinds, weights, strict=True):
            if kind.clocks:
                acc += weight
                self.clocked_cumulative.append(acc)
        self.places = places
        self.seed = seed
        self.ids: dict[str, int] = {}

    def tables(self) -> dict[str, Table]:
        return {
            "grievance": Table(Grievance, GRIEVANCE_COLUMNS),
            "clock": Table(SlaClock, CLOCK_COLUMNS),
            "event": Table(SlaEvent, EVENT_COLUMNS),
            "line": Table(TimelineEvent, LINE_COLUMNS),
            "dispatch": Table(Dispatch, DISPATCH_COLUMNS),
        }

    def next_ids(self, cursor: Any, tables: dict[str, Table]) -> None:
        for key, table in tables.items():
            cursor.execute(
                f"SELECT COALESCE(MAX(id), 0) + 1 FROM {connection.ops.quote_name(table.name)}"  # noqa: S608
            )
            self.ids[key] = int(cursor.fetchone()[0])

    def take(self, key: str) -> int:
        pk = self.ids[key]
        self.ids[key] = pk + 1
        return pk

    # --- picking --------------------------------------------------------------------------

    def kind(self, rng: random.Random, *, clocked: bool = False) -> Kind:
        if clocked:
            i = bisect.bisect(self.clocked_cumulative, rng.random() * self.clocked_cumulative[-1])
            return self.clocked[i]
        return self.kinds[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]

    def who(
        self, rng: random.Random, place: Place, kind: Kind
    ) -> tuple[str, int | None, int | None, bool]:
        """(channel, reporter, submitted_by, anonymous)."""
        r = rng.random() * 100
        channel = CHANNELS[-1][0]
        for name, weight in CHANNELS:
            if r < weight:
                channel = name
                break
            r -= weight
        if not kind.clocks:
            channel = Grievance.Channel.SUGGESTION_BOX  # the suggestion category
        if channel == Grievance.Channel.SUGGESTION_BOX and rng.random() < 0.5:
            return channel, None, None, True
        if channel == Grievance.Channel.PATROL:
            return channel, None, None, False
        if channel == Grievance.Channel.HOTLINE:
            return channel, place.resident_id if rng.random() < 0.7 else None, self.staff_id, False
        if channel == Grievance.Channel.GRID_WORKER:
            return channel, place.resident_id if rng.random() < 0.6 else None, None, False
        return channel, place.resident_id, None, False

    def handler(self, place: Place, kind: Kind) -> int:
        if kind.handler == Category.Handler.PROPERTY_COMPANY and place.company_id:
            return place.company_id
        return self.office_id

    # --- rows -----------------------------------------------------------------------------

    def grievance(
        self,
        tables: dict[str, Table],
        rng: random.Random,
        *,
        kind: Kind,
        status: str,
        submitted: dt.datetime,
        accepted: dt.datetime | None = None,
        resolved: dt.datetime | None = None,
        closed: dt.datetime | None = None,
        handler: bool = False,
        dispatch: str = "",
        merged_into: int | None = None,
        updated: dt.datetime | None = None,
    ) -> int:
        """One grievance with its two timeline lines and, when `dispatch` names a status,
        its live (or completed) dispatch to the handler."""
        place = self.places[rng.randrange(len(self.places))]
        channel, reporter, submitted_by, anonymous = self.who(rng, place, kind)
        pk = self.take("grievance")
        last = updated or closed or resolved or accepted or submitted
        tables["grievance"].add(
            pk,
            (
                str(self.community_id),
                str(place.estate_id),
                str(place.building_id),
                str(place.unit_id),
                "\\N" if anonymous else str(place.household_id),
                str(kind.category_id),
                _escape(f"{kind.name}：{place.label}"),
                DESCRIPTIONS[pk % len(DESCRIPTIONS)],
                channel,
                status,
                kind.tier,
                _id(reporter),
                _id(submitted_by),
                "t" if anonymous else "f",
                "f" if kind.private or anonymous else "t",
                _id(self.handler(place, kind) if handler else None),
                _id(merged_into),
                REJECTION if status == Status.REJECTED else "",
                WAITING if status == Status.WAITING else "",
                Status.ON_SITE if status == Status.WAITING else "",
                _ts(submitted),
                _ts(accepted),
                _ts(resolved),
                _ts(closed),
                _ts(last),
            ),
        )
        line = tables["line"]
        line.add(
            self.take("line"),
            (
                str(pk),
                LineKind.CREATED,
                _ts(submitted),
                _id(submitted_by),
                "",
                Status.SUBMITTED,
                CHANNEL_NAMES.get(channel, ""),
            ),
        )
        if status != Status.SUBMITTED:
            previous = PREVIOUS.get(status, Status.SUBMITTED)
            line.add(
                self.take("line"),
                (
                    str(pk),
                    LineKind.MERGED if status == Status.MERGED else LineKind.STATUS,
                    _ts(last),
                    _id(self.staff_id),
                    previous,
                    status,
                    "",
                ),
            )
        if dispatch:
            decided = dispatch != Dispatch.Status.PENDING
            tables["dispatch"].add(
                self.take("dispatch"),
                (
                    str(pk),
                    str(self.handler(place, kind)),
                    dispatch,
                    _ts(accepted or submitted),
                    _ts(last) if decided else "\\N",
                    _id(self.staff_id),
                ),
            )
        return pk

    def clock(
        self,
        tables: dict[str, Table],
        grievance: int,
        spec: ClockSpec,
        *,
        start: dt.datetime,
        state: str,
        met: dt.datetime | None = None,
        paused: dt.datetime | None = None,
        seen_until: dt.datetime | None = None,
    ) -> None:
        """One clock, with what a sweep had recorded of it by `seen_until` (default: its
        end, `met`, or the pause) and those events."""
        due = start + spec.target
        warn = start + spec.warn if spec.warn is not None else None
        until = seen_until or met or paused or AS_OF
        pk = self.take("clock")
        events = tables["event"]
        warned = None
        if warn is not None and warn <= until and warn < due:
            warned = warn + SWEEP_LAG
            events.add(
                self.take("event"),
                (str(pk), EventKind.WARNING, "0", _ts(warn), _ts(warned)),
            )
        breached = None
        level = 0
        escalate = None
        if due < until:
            breached = due + SWEEP_LAG
            events.add(
                self.take("event"), (str(pk), EventKind.BREACH, "1", _ts(due), _ts(breached))
            )
            level = 1
            if state == State.RUNNING:
                # The rungs already climbed, each counted from the due time.
                while level < TOP_LEVEL and due + level * spec.rung <= until:
                    rung_at = due + level * spec.rung
                    level += 1
                    events.add(
                        self.take("event"),
                        (
                            str(pk),
                            EventKind.ESCALATION,
                            str(level),
                            _ts(rung_at),
                            _ts(rung_at + SWEEP_LAG),
                        ),
                    )
                escalate = due + level * spec.rung if level < TOP_LEVEL else None
        tables["clock"].add(
            pk,
            (
                str(grievance),
                spec.kind,
                str(spec.policy_id),
                spec.snapshot,
                state,
                _ts(start),
                _ts(due),
                _ts(warn),
                _ts(escalate),
                str(level),
                _ts(paused),
                _ts(warned),
                _ts(breached),
                _ts(met),
            ),
        )

    # --- the load -------------------------------------------------------------------------

    def load(self, cursor: Any, tables: dict[str, Table], plan: Plan) -> None:
        """History first (oldest ids), then the open grievances, the running ones last."""
        for _done in self.history(tables, plan.closed):
            for table in tables.values():
                table.flush(cursor)
        self.open_without_clock_running(tables, plan)
        self.running(tables, plan)
        for table in tables.values():
            table.flush(cursor)

    def history(self, tables: dict[str, Table], count: int) -> Iterator[int]:
        rng = random.Random(f"{self.seed}-history-{self.ids['grievance']}")
        first = AS_OF - HISTORY
        span = (HISTORY - dt.timedelta(days=3)).total_seconds()
        first_pk = self.ids["grievance"]
        for i in range(count):
            submitted = first + dt.timedelta(seconds=span * (i + rng.random()) / max(count, 1))
            kind = self.kind(rng)
            r = rng.random()
            if r < 0.02:
                closed = submitted + dt.timedelta(hours=rng.uniform(1, 24))
                self.grievance(
                    tables, rng, kind=kind, status=Status.REJECTED, submitted=submitted,
                    closed=closed,
                )  # fmt: skip
            elif r < 0.04 and i > 0:
                into = first_pk + rng.randrange(i)
                closed = submitted + dt.timedelta(minutes=rng.uniform(10, 1440))
                self.grievance(
                    tables, rng, kind=kind, status=Status.MERGED, submitted=submitted,
                    closed=closed, merged_into=into,
                )  # fmt: skip
            else:
                self.handled(tables, rng, kind, submitted, Status.CLOSED)
            if (i + 1) % CHUNK == 0:
                yield i + 1

    def handled(
        self,
        tables: dict[str, Table],
        rng: random.Random,
        kind: Kind,
        submitted: dt.datetime,
        status: str,
    ) -> None:
        """Accepted, dispatched, on site and resolved (then closed, or awaiting the verdict)."""
        accepted = submitted + dt.timedelta(minutes=rng.uniform(2, 120))
        start = accepted + dt.timedelta(minutes=rng.uniform(1, 60))
        arrive_met = start + dt.timedelta(minutes=rng.uniform(3, 13.5))
        main = kind.clocks[-1] if kind.clocks else None
        # Most are solved within the promise; about one in six is late.
        share = rng.uniform(0.15, 1.0) if rng.random() < 0.85 else rng.uniform(1.0, 2.0)
        resolved = (start + main.target * share) if main else accepted + dt.timedelta(days=2)
        resolved = max(resolved, arrive_met + dt.timedelta(minutes=5))
        closed = resolved + dt.timedelta(hours=rng.uniform(1, 72))
        limit = AS_OF - BACKLOG
        if (closed if status == Status.CLOSED else resolved) >= limit:
            # The newest history: everything happened before the data's moment.
            resolved = arrive_met + (limit - arrive_met) * rng.uniform(0.3, 0.7)
            closed = resolved + (limit - resolved) * rng.uniform(0.1, 0.9)
        pk = self.grievance(
            tables, rng, kind=kind, status=status, submitted=submitted, accepted=accepted,
            resolved=resolved, closed=closed if status == Status.CLOSED else None, handler=True,
            dispatch="" if status == Status.CLOSED else Dispatch.Status.COMPLETED,
        )  # fmt: skip
        for spec in kind.clocks:
            met = arrive_met if spec.kind == SlaClockSpec.Kind.ARRIVE else resolved
            self.clock(tables, pk, spec, start=start, state=State.STOPPED, met=met)

    def open_without_clock_running(self, tables: dict[str, Table], plan: Plan) -> None:
        """Submitted, accepted, dispatched (not accepted), waiting and resolved ones."""
        rng = random.Random(f"{self.seed}-open")
        now = AS_OF - BACKLOG
        for _i in range(plan.submitted):
            submitted = now - dt.timedelta(minutes=rng.uniform(1, 240))
            self.grievance(
                tables, rng, kind=self.kind(rng), status=Status.SUBMITTED, submitted=submitted
            )
        for status, count in ((Status.ACCEPTED, plan.accepted), (Status.DISPATCHED, plan.pending)):
            for _i in range(count):
                submitted = now - dt.timedelta(minutes=rng.uniform(30, 2880))
                accepted = submitted + dt.timedelta(minutes=rng.uniform(2, 25))
                self.grievance(
                    tables, rng, kind=self.kind(rng), status=status, submitted=submitted,
                    accepted=accepted, handler=status == Status.DISPATCHED,
                    dispatch=Dispatch.Status.PENDING if status == Status.DISPATCHED else "",
                )  # fmt: skip
        for _i in range(plan.waiting):
            kind = self.kind(rng, clocked=True)
            paused = now - dt.timedelta(hours=rng.uniform(1, 72))
            main = kind.clocks[-1]
            start = paused - main.target * rng.uniform(0.1, 0.8)
            submitted = start - dt.timedelta(minutes=rng.uniform(10, 180))
            arrive_met = start + dt.timedelta(minutes=rng.uniform(3, 12))
            pk = self.grievance(
                tables, rng, kind=kind, status=Status.WAITING, submitted=submitted,
                accepted=submitted + dt.timedelta(minutes=5), handler=True, updated=paused,
                dispatch=Dispatch.Status.ACCEPTED,
            )  # fmt: skip
            for spec in kind.clocks:
                if spec.kind == SlaClockSpec.Kind.ARRIVE:
                    self.clock(tables, pk, spec, start=start, state=State.STOPPED, met=arrive_met)
                else:
                    self.clock(tables, pk, spec, start=start, state=State.PAUSED, paused=paused)
        for _i in range(plan.resolved):
            submitted = now - dt.timedelta(days=rng.uniform(1, 20))
            self.handled(tables, rng, self.kind(rng, clocked=True), submitted, Status.RESOLVED)

    def running(self, tables: dict[str, Table], plan: Plan) -> None:
        """The running clocks, newest grievances. The due time of each grievance's first
        running clock (arrive while the handler is on the way, else the tier's clock) is
        drawn by bucket: 10 % overdue before the backlog hour, 1 % due in it, 1 % warning in
        it, the rest due later (started up to a full target ago)."""
        rng = random.Random(f"{self.seed}-running")
        seen = AS_OF - BACKLOG
        total = plan.two_running + plan.one_running
        for i in range(total):
            kind = self.kind(rng, clocked=True)
            two = i < plan.two_running
            drawn = kind.clocks[0] if two else kind.clocks[-1]
            bucket = i % 100
            if bucket < 10:
                due = seen - dt.timedelta(seconds=rng.uniform(60, 20 * 86400))
            elif bucket == 10:
                due = seen + BACKLOG * rng.random()
            elif bucket == 11 and drawn.warn is not None:
                due = seen + BACKLOG * rng.random() + (drawn.target - drawn.warn)
            else:
                due = AS_OF + drawn.target * rng.random()
                if drawn.warn is not None and seen < due - drawn.target + drawn.warn < AS_OF:
                    due += BACKLOG  # its warning is not part of the backlog's 1 %
            start = due - drawn.target
            submitted = start - dt.timedelta(minutes=rng.uniform(5, 120))
            pk = self.grievance(
                tables, rng, kind=kind, status=Status.DISPATCHED if two else Status.ON_SITE,
                submitted=submitted, accepted=submitted + dt.timedelta(minutes=3), handler=True,
                dispatch=Dispatch.Status.ACCEPTED, updated=start,
            )  # fmt: skip
            for spec in kind.clocks:
                if spec.kind == SlaClockSpec.Kind.ARRIVE and not two:
                    met = start + dt.timedelta(minutes=rng.uniform(3, 12))
                    self.clock(tables, pk, spec, start=start, state=State.STOPPED, met=met)
                else:
                    self.clock(tables, pk, spec, start=start, state=State.RUNNING, seen_until=seen)
