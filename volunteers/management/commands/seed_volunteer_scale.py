"""`manage.py seed_volunteer_scale --volunteers N --attendances M`: volunteering for benchmarks.

Runs after `seed_scale` (and `seed_credit_scale`, for the points) on its street. Most of it
goes to the scale community (规模测试社区, SHARE_MAIN), the rest to two small communities
of the same street whose volunteers are outside people (in-service party members from
partner units: a login, no resident record):

- N volunteer logins (no password: they sign in by SMS code); in the scale community most
  are residents (their registry record linked to the login), the rest outside people;
- teams (小巷管家, patrols, service teams …) with a leader, every volunteer on one team
  (a fifth on two), and the ten public-service posts;
- past activities over the last DAYS_BACK days (a few to forty people each, most with a
  team and a post) with M sign-ups and attendances in all: checked in and out around the
  activity's times, a few no-shows, most confirmed by the team leader or the office a
  day or two later (the last days' partly still waiting), a few corrected by the leader;
- upcoming activities for the next UPCOMING_DAYS days, some full with a waiting list;
- the benchmark's volunteer (BENCH_VOLUNTEER_PHONE, the bench password): a resident of
  the scale community on a team, with about BENCH_ATTENDANCES attendances and a few
  sign-ups to come; the hours confirmed for them earn their points through credit's own
  service (`points_award`, the per-hour rule, keyed by attendance as confirmation does),
  so their ledger and cached balance stay consistent. Nobody else's confirmations are
  written to the ledger (the scale ledger holds its own volunteering awards).

Rows go in with COPY on PostgreSQL (bulk_create elsewhere: tests), in one transaction,
without django-simple-history rows (load data, not governance records), with ids taken
after the tables' current ends under an EXCLUSIVE lock. Then VACUUM ANALYZE.

Idempotent: with M attendances or more on the street the past is not loaded again; the
upcoming activities are topped up on every run (they run out as time passes), and the
benchmark volunteer's login and points are checked.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import User
from community.management.commands.seed_scale import BENCH_PASSWORD, BENCH_PHONE, COMMUNITY_CODE
from community.models import Community, Resident
from credit.models import PointsEntry, ScoringRule
from credit.services import points_award, rule_for
from volunteers.models import Activity, Attendance, Post, SignUp, Team, TeamMember
from volunteers.services import posts_install
from volunteers.services.attendance import HOUR_RULE_CODE

#: The benchmark's volunteer: a resident of the scale community (the bench password).
BENCH_VOLUNTEER_PHONE = "13900000003"
BENCH_ATTENDANCES = 300
#: Volunteer logins are 136xxxxxxxx, clear of the bench logins and the demo's numbers.
PHONE_PREFIX = "136"
#: A password nobody can use (Django's "!" prefix): volunteers sign in by SMS code.
NO_PASSWORD = "!bench-volunteer-no-password"  # noqa: S105 (unusable by design)
SHARE_MAIN = 0.9  # of the volunteers and the attendances, in the scale community
RESIDENT_SHARE = 0.9  # of the scale community's volunteers, residents with a login
EXTRA_COMMUNITIES = (("BENCH-SCALE-V2", "规模测试社区二"), ("BENCH-SCALE-V3", "规模测试社区三"))
DAYS_BACK = 365
UPCOMING_DAYS = 30
TEAMS_MAIN = 60
TEAMS_EXTRA = 6
#: People at an activity: uniform between these (mean 15).
PEOPLE = (5, 25)
ACTIVE_SHARE = 0.3  # the most active volunteers: a third of them do most of the work
ACTIVE_WEIGHT = 0.7  # share of the places the active third takes
NO_SHOW = 0.04
RECENT = dt.timedelta(days=3)  # confirmations still being made
CONFIRMED_OLD, CONFIRMED_RECENT = 0.98, 0.5
CORRECTED = 0.03

TEAM_NAMES = {
    Team.Kind.STEWARD: "小巷管家",
    Team.Kind.PATROL: "平安巡逻队",
    Team.Kind.WOMENS_PATROL: "巾帼巡逻队",
    Team.Kind.WATCH: "守望队",
    Team.Kind.SERVICE: "便民服务队",
    Team.Kind.CULTURAL: "文艺队",
}
ACTIVITY_TITLES = {
    Activity.Kind.PATROL: ("夜间巡逻", "治安巡逻", "防火巡查"),
    Activity.Kind.SERVICE_DAY: ("周六便民服务日", "义剪", "磨刀修伞"),
    Activity.Kind.CLEANUP: ("楼道清理", "小区大扫除", "垃圾分类督导"),
    Activity.Kind.HOME_VISIT: ("走访独居老人", "高龄老人探访"),
    Activity.Kind.OTHER: ("政策宣传", "文艺排练", "交通值守"),
}
PLACES = ("社区广场", "党群服务中心", "小区东门", "社区活动室", "各楼栋")


# --- rows: COPY on PostgreSQL, bulk_create elsewhere -------------------------------------------


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class Rows:
    """Rows of one model, given as attname -> value with their id; written by `flush`.

    Columns a row leaves out get the field's default (Django's defaults live in Python,
    not in the table)."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = {f.attname: f for f in model._meta.concrete_fields}
        self.pending: list[dict[str, Any]] = []
        self.written = 0
        self.next_id = 0

    def start(self, cursor: Any) -> None:
        table = connection.ops.quote_name(self.model._meta.db_table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
        self.next_id = int(cursor.fetchone()[0])

    def add(self, **values: Any) -> int:
        pk = self.next_id
        self.next_id += 1
        self.pending.append({"id": pk, **values})
        return pk

    def flush(self, cursor: Any) -> None:
        if not self.pending:
            return
        if connection.vendor == "postgresql":
            self._copy(cursor)
        else:
            self.model._default_manager.bulk_create(
                [self.model(**row) for row in self.pending], batch_size=2000
            )
        self.written += len(self.pending)
        self.pending = []

    def _copy(self, cursor: Any) -> None:
        given = list(self.pending[0])
        rest = [a for a in self.fields if a not in given]
        defaults = []
        for attname in rest:
            default = self.fields[attname].get_default()
            if default is None and not self.fields[attname].null:
                raise CommandError(f"{self.model.__name__}.{attname} needs a value")
            defaults.append(default)
        suffix = "".join("\t" + _copy_text(d) for d in defaults) + "\n"
        lines = ("\t".join(_copy_text(row[a]) for a in given) + suffix for row in self.pending)
        columns = ", ".join(
            connection.ops.quote_name(str(self.fields[a].column)) for a in [*given, *rest]
        )
        table = connection.ops.quote_name(self.model._meta.db_table)
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO("".join(lines)))

    def reset_sequence(self, cursor: Any) -> None:
        if connection.vendor != "postgresql":
            return
        table = self.model._meta.db_table
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 (own table)
            f"(SELECT COALESCE(MAX(id), 1) FROM {connection.ops.quote_name(table)}))",
            [table],
        )


# --- who volunteers where ----------------------------------------------------------------------


@dataclass
class Place:
    """A community's volunteering: its volunteers, teams (with their members) and posts."""

    community: Community
    volunteers: list[int] = field(default_factory=list)  # user ids
    active: list[int] = field(default_factory=list)
    teams: list[tuple[int, int | None]] = field(default_factory=list)  # (team id, leader)
    members: dict[int, list[int]] = field(default_factory=dict)  # team id -> user ids
    posts: list[int] = field(default_factory=list)

    def people(self, rng: random.Random, count: int, team: int | None) -> list[int]:
        """`count` distinct volunteers: from the team when it has one, the active third
        first, else anyone in the community."""
        pool = self.members.get(team, []) if team is not None else []
        if len(pool) < count:
            pool = self.volunteers
        count = min(count, len(pool))
        chosen: set[int] = set()
        tries = 0
        while len(chosen) < count and tries < count * 20:
            tries += 1
            if pool is self.volunteers and self.active and rng.random() < ACTIVE_WEIGHT:
                chosen.add(rng.choice(self.active))
            else:
                chosen.add(rng.choice(pool))
        return sorted(chosen)


@dataclass(frozen=True)
class Loaded:
    activities: int
    signups: int
    attendances: int


def _local(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class Command(BaseCommand):
    help = (
        "Bulk-load N volunteers and M attendances (with their teams, posts, activities and "
        f"sign-ups) on the seed_scale street, most in {COMMUNITY_CODE}, for benchmarks; a "
        f"volunteer login {BENCH_VOLUNTEER_PHONE} with about {BENCH_ATTENDANCES} "
        "attendances. Does nothing (but top up upcoming activities) when M are there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--volunteers", type=int, default=20_000)
        parser.add_argument("--attendances", type=int, default=200_000)
        parser.add_argument("--bench-attendances", type=int, default=BENCH_ATTENDANCES)
        parser.add_argument("--upcoming-per-day", type=int, default=0, help="0: from M")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        volunteers: int = options["volunteers"]
        attendances: int = options["attendances"]
        if volunteers < 10 or attendances < 0:
            raise CommandError("--volunteers is at least 10, --attendances a count")
        main = Community.objects.filter(code=COMMUNITY_CODE).first()
        if main is None:
            raise CommandError("run `manage.py seed_scale` first")
        staff_id = User.objects.filter(phone=BENCH_PHONE).values_list("id", flat=True).first()
        if staff_id is None:
            raise CommandError(f"no bench login {BENCH_PHONE}: run `manage.py seed_scale`")
        now = timezone.now()
        rng = random.Random(options["seed"])
        communities = [main, *self.extra_communities(main)]
        have = Attendance.objects.filter(activity__community__in=communities).count()
        bench_user = self.bench_volunteer(main)
        if have < attendances:
            for community in communities:
                posts_install(community=community)
            # One transaction: an interrupted load leaves nothing, and the next run starts over.
            with transaction.atomic(durable=True):
                places = self.people(communities, volunteers, bench_user, now, rng)
                loaded = self.load_past(
                    places,
                    attendances - have,
                    bench_user.pk,
                    options["bench_attendances"],
                    staff_id,
                    now,
                    rng,
                )
            self.stdout.write(
                f"loaded {loaded.activities} past activities, {loaded.signups} sign-ups, "
                f"{loaded.attendances} attendances in {time.monotonic() - started:.0f}s"
            )
        else:
            self.stdout.write(f"nothing to load: {have} attendances already (>= {attendances})")
        per_day = options["upcoming_per_day"] or max(1, attendances // 15 // DAYS_BACK)
        upcoming = self.top_up_upcoming(communities, per_day, bench_user.pk, now, rng)
        awarded = self.award_bench_points(bench_user, main)
        self.analyze()
        self.stdout.write(
            f"seed_volunteer_scale: {upcoming} upcoming activities added, {awarded} points "
            f"entries for {BENCH_VOLUNTEER_PHONE}; {time.monotonic() - started:.0f}s"
        )

    # --- setup ---------------------------------------------------------------------------------

    def extra_communities(self, main: Community) -> list[Community]:
        found = []
        for code, name in EXTRA_COMMUNITIES:
            community, _created = Community.objects.get_or_create(
                code=code, defaults={"name": name, "street": main.street}
            )
            found.append(community)
        return found

    def bench_volunteer(self, main: Community) -> User:
        """The benchmark's volunteer login, linked to a resident of the scale community."""
        user = User.objects.filter(phone=BENCH_VOLUNTEER_PHONE).first()
        if user is None:
            user = User.objects.create_user(
                BENCH_VOLUNTEER_PHONE, BENCH_PASSWORD, name="压测志愿者"
            )
        if not Resident.objects.filter(user=user).exists():
            resident = (
                Resident.objects.filter(
                    household__unit__building__estate__community=main,
                    user__isnull=True,
                    status=Resident.Status.ACTIVE,
                )
                .exclude(phone="")
                .order_by("id")
                .first()
            )
            if resident is None:
                raise CommandError("no resident of the scale community without a login")
            Resident.objects.filter(pk=resident.pk).update(user=user)
        return user

    def people(
        self,
        communities: list[Community],
        total: int,
        bench_user: User,
        now: dt.datetime,
        rng: random.Random,
    ) -> list[Place]:
        """Volunteer logins, teams with members and leaders, the ten posts."""
        main = communities[0]
        in_main = int(total * SHARE_MAIN)
        counts = [in_main] + [
            (total - in_main) // len(EXTRA_COMMUNITIES) for _ in EXTRA_COMMUNITIES
        ]
        serial = User.objects.filter(phone__startswith=PHONE_PREFIX).count()
        places: list[Place] = []
        for index, (community, count) in enumerate(zip(communities, counts, strict=True)):
            users = User.objects.bulk_create(
                [
                    User(
                        phone=f"{PHONE_PREFIX}{serial + i:08d}",
                        name=f"志愿者{serial + i}",
                        password=NO_PASSWORD,
                    )
                    for i in range(count)
                ],
                batch_size=2000,
            )
            serial += count
            ids = [u.pk for u in users]
            if index == 0:
                self.link_residents(main, ids[: int(count * RESIDENT_SHARE)])
                # Last: a team's first member leads it, and the bench volunteer is a member.
                ids.append(bench_user.pk)
            places.append(self.teams(community, ids, now, rng, main=index == 0))
        for place in places:
            place.posts = list(
                Post.objects.filter(community=place.community).values_list("id", flat=True)
            )
        return places

    def link_residents(self, main: Community, user_ids: list[int]) -> None:
        """Give that many residents of the scale community (adults, no login yet) a login."""
        residents = list(
            Resident.objects.filter(
                household__unit__building__estate__community=main,
                user__isnull=True,
                status=Resident.Status.ACTIVE,
            )
            .exclude(phone="")
            .order_by("id")
            .values_list("id", flat=True)[: len(user_ids)]
        )
        pairs = list(zip(residents, user_ids, strict=False))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {connection.ops.quote_name(Resident._meta.db_table)} AS r "  # noqa: S608
                    "SET user_id = p.user_id FROM unnest(%s::bigint[], %s::bigint[]) "
                    "AS p(resident_id, user_id) WHERE r.id = p.resident_id",
                    [[r for r, _u in pairs], [u for _r, u in pairs]],
                )
        else:
            for resident_id, user_id in pairs:
                Resident.objects.filter(pk=resident_id).update(user_id=user_id)

    def teams(
        self,
        community: Community,
        user_ids: list[int],
        now: dt.datetime,
        rng: random.Random,
        *,
        main: bool,
    ) -> Place:
        """Teams of the community, every volunteer on one (a fifth on two), a leader each."""
        count = TEAMS_MAIN if main else TEAMS_EXTRA
        kinds = list(TEAM_NAMES)
        existing = Team.objects.filter(community=community).count()
        teams = Team.objects.bulk_create(
            [
                Team(
                    community=community,
                    kind=kinds[i % len(kinds)],
                    name=f"{TEAM_NAMES[kinds[i % len(kinds)]]}{i + 1}队",
                )
                for i in range(existing, existing + count)
            ]
        )
        place = Place(community=community, volunteers=list(user_ids))
        members: dict[int, list[int]] = {t.pk: [] for t in teams}
        for n, user_id in enumerate(user_ids):
            first = teams[n % len(teams)].pk
            members[first].append(user_id)
            if rng.random() < 0.2:
                second = rng.choice(teams).pk
                if second != first:
                    members[second].append(user_id)
        joined = now - dt.timedelta(days=DAYS_BACK + 30)
        rows = []
        for team in teams:
            team.leader_id = members[team.pk][0] if members[team.pk] else None
            for user_id in members[team.pk]:
                role = (
                    TeamMember.Role.LEADER if user_id == team.leader_id else TeamMember.Role.MEMBER
                )
                rows.append(TeamMember(team=team, user_id=user_id, role=role, joined_at=joined))
        Team.objects.bulk_update(teams, ["leader"], batch_size=1000)
        TeamMember.objects.bulk_create(rows, batch_size=5000)
        place.members = members
        place.teams = [(t.pk, t.leader_id) for t in teams]
        shuffled = list(user_ids)
        rng.shuffle(shuffled)
        place.active = shuffled[: max(1, int(len(shuffled) * ACTIVE_SHARE))]
        return place

    # --- the past year ---------------------------------------------------------------------------

    def load_past(
        self,
        places: list[Place],
        todo: int,
        bench_id: int,
        bench_wanted: int,
        staff_id: int,
        now: dt.datetime,
        rng: random.Random,
    ) -> Loaded:
        activities, signups, attendances = Rows(Activity), Rows(SignUp), Rows(Attendance)
        tables = (activities, signups, attendances)
        today = timezone.localdate(now)
        shares = [SHARE_MAIN] + [(1 - SHARE_MAIN) / (len(places) - 1)] * (len(places) - 1)
        mean = sum(PEOPLE) / 2
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                self.fk_checks_off(cursor)
                cursor.execute(
                    "LOCK TABLE "
                    + ", ".join(connection.ops.quote_name(t.model._meta.db_table) for t in tables)
                    + " IN EXCLUSIVE MODE"
                )
            for table in tables:
                table.start(cursor)
            for index, (place, share) in enumerate(zip(places, shares, strict=True)):
                wanted = (
                    int(todo * share) if index else todo - sum(int(todo * s) for s in shares[1:])
                )
                n_activities = max(1, round(wanted / mean))
                bench_p = bench_wanted / n_activities if index == 0 else 0.0
                made = 0
                # Until the community has its share (a small team or community gives an
                # activity fewer people than drawn); bounded all the same.
                for _number in range(wanted):
                    if made >= wanted:
                        break
                    size = min(wanted - made, rng.randint(*PEOPLE))
                    day = today - dt.timedelta(days=rng.randint(1, DAYS_BACK))
                    made += self.past_activity(
                        tables,
                        place,
                        day,
                        size,
                        bench_id if rng.random() < bench_p else None,
                        staff_id,
                        now,
                        rng,
                    )
                    if len(attendances.pending) >= 20_000:
                        for table in tables:
                            table.flush(cursor)
            for table in tables:
                table.flush(cursor)
                table.reset_sequence(cursor)
        return Loaded(activities.written, signups.written, attendances.written)

    def past_activity(
        self,
        tables: tuple[Rows, Rows, Rows],
        place: Place,
        day: dt.date,
        size: int,
        bench_id: int | None,
        staff_id: int,
        now: dt.datetime,
        rng: random.Random,
    ) -> int:
        """One past activity with `size` people (the bench volunteer among them, if given)."""
        activities, signups, attendances = tables
        team, leader = rng.choice(place.teams) if rng.random() < 0.85 else (None, None)
        people = place.people(rng, size, team)
        if bench_id is not None and bench_id not in people:
            people = [bench_id, *people[1:]] if people else [bench_id]
        starts = _local(day, rng.randint(8, 19), rng.choice((0, 30)))
        ends = starts + dt.timedelta(hours=rng.choice((1, 1.5, 2, 2, 3, 4)))
        kind = rng.choice(list(ACTIVITY_TITLES))
        activity = activities.add(
            **self.activity_values(place, team, kind, starts, ends, len(people), rng),
            signed_up_count=len(people),
            signup_open=False,
        )
        recent = ends > now - RECENT
        for user_id in people:
            signup = signups.add(
                activity_id=activity,
                user_id=user_id,
                status=SignUp.Status.SIGNED_UP,
                position=None,
                created_at=starts - dt.timedelta(hours=rng.randint(2, 240)),
                promoted_at=None,
                cancelled_at=None,
            )
            values: dict[str, Any] = {
                "signup_id": signup,
                "activity_id": activity,
                "user_id": user_id,
                "checked_in_at": None,
                "checked_out_at": None,
                "hours": None,
                "corrected_hours": None,
                "corrected_by_id": None,
                "confirmed_by_id": None,
                "confirmed_at": None,
                "no_show": False,
                "created_at": starts,
            }
            if rng.random() < NO_SHOW:
                values.update(no_show=True, created_at=ends)
            else:
                checked_in = starts + dt.timedelta(minutes=rng.randint(-15, 10))
                checked_out = ends + dt.timedelta(minutes=rng.randint(-10, 20))
                hours = Decimal((checked_out - checked_in).total_seconds() / 3600).quantize(
                    Decimal("0.01")
                )
                values.update(
                    checked_in_at=checked_in,
                    checked_out_at=checked_out,
                    hours=hours,
                    created_at=checked_in,
                )
                confirmer = leader if leader is not None and leader != user_id else staff_id
                if rng.random() < (CONFIRMED_RECENT if recent else CONFIRMED_OLD):
                    confirmed = min(
                        checked_out + dt.timedelta(hours=rng.randint(1, 48)),
                        now - dt.timedelta(minutes=5),
                    )
                    values.update(confirmed_by_id=confirmer, confirmed_at=confirmed)
                    if rng.random() < CORRECTED:
                        values.update(
                            corrected_hours=(hours * 2).quantize(Decimal(1)) / 2,
                            corrected_by_id=confirmer,
                        )
            attendances.add(**values)
        return len(people)

    def activity_values(
        self,
        place: Place,
        team: int | None,
        kind: str,
        starts: dt.datetime,
        ends: dt.datetime,
        people: int,
        rng: random.Random,
    ) -> dict[str, Any]:
        audience = (
            Activity.Audience.TEAM
            if team is not None and rng.random() < 0.3
            else Activity.Audience.OPEN
        )
        return {
            "community_id": place.community.pk,
            "title": rng.choice(ACTIVITY_TITLES[Activity.Kind(kind)]),
            "kind": kind,
            "place": rng.choice(PLACES),
            "starts_at": starts,
            "ends_at": ends,
            "team_id": team,
            "post_id": rng.choice(place.posts) if place.posts and rng.random() < 0.6 else None,
            "capacity": max(1, people + rng.randint(0, 5)),
            "audience": audience,
        }

    # --- what is coming ----------------------------------------------------------------------

    def top_up_upcoming(
        self,
        communities: list[Community],
        per_day: int,
        bench_id: int,
        now: dt.datetime,
        rng: random.Random,
    ) -> int:
        """Open activities for the next UPCOMING_DAYS days, as many as the past had a day,
        some full with a waiting list; the bench volunteer signed up for a few."""
        added = 0
        activities, signups = Rows(Activity), Rows(SignUp)
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "LOCK TABLE "
                    + ", ".join(
                        connection.ops.quote_name(t.model._meta.db_table)
                        for t in (activities, signups)
                    )
                    + " IN EXCLUSIVE MODE"
                )
            activities.start(cursor)
            signups.start(cursor)
            for index, community in enumerate(communities):
                daily = per_day * SHARE_MAIN if index == 0 else per_day * (1 - SHARE_MAIN) / 2
                wanted = max(1, round(daily * UPCOMING_DAYS))
                have = Activity.objects.filter(community=community, starts_at__gt=now).count()
                if have >= wanted:
                    continue
                place = self.place_of(community)
                if not place.volunteers:
                    continue
                today = timezone.localdate(now)
                bench_left = 5 if index == 0 else 0
                for _n in range(wanted - have):
                    day = today + dt.timedelta(days=rng.randint(1, UPCOMING_DAYS))
                    starts = _local(day, rng.randint(8, 19), rng.choice((0, 30)))
                    ends = starts + dt.timedelta(hours=rng.choice((1, 2, 2, 3)))
                    team = rng.choice(place.teams)[0] if rng.random() < 0.85 else None
                    values = self.activity_values(
                        place, team, rng.choice(list(ACTIVITY_TITLES)), starts, ends, 0, rng
                    )
                    capacity = rng.randint(5, 30)
                    full = rng.random() < 0.3
                    taken = capacity if full else rng.randint(0, capacity * 4 // 5)
                    waiting = rng.randint(1, 5) if full else 0
                    people = place.people(rng, taken + waiting, team)
                    if bench_left and rng.random() < 0.2 and bench_id not in people:
                        bench_left -= 1
                        people = [bench_id, *people]
                    # Places first, in order; the rest wait only when the activity is full.
                    taken = min(len(people), capacity)
                    values["capacity"] = capacity
                    activity = activities.add(**values, signed_up_count=taken, signup_open=True)
                    for position, user_id in enumerate(people):
                        place_taken = position < taken
                        signups.add(
                            activity_id=activity,
                            user_id=user_id,
                            status=SignUp.Status.SIGNED_UP
                            if place_taken
                            else SignUp.Status.WAITING,
                            position=None if place_taken else position - taken + 1,
                            created_at=now - dt.timedelta(hours=rng.randint(1, 200)),
                            promoted_at=None,
                            cancelled_at=None,
                        )
                    added += 1
            activities.flush(cursor)
            signups.flush(cursor)
            activities.reset_sequence(cursor)
            signups.reset_sequence(cursor)
        return added

    def place_of(self, community: Community) -> Place:
        """A community's volunteers and teams as loaded (for a later top-up)."""
        place = Place(community=community)
        for team_id, user_id, leader in TeamMember.objects.filter(
            team__community=community, left_at__isnull=True, user__isnull=False
        ).values_list("team_id", "user_id", "team__leader_id"):
            place.members.setdefault(team_id, []).append(user_id)
            if (team_id, leader) not in place.teams:
                place.teams.append((team_id, leader))
        place.volunteers = sorted({u for users in place.members.values() for u in users})
        place.active = place.volunteers[: max(1, int(len(place.volunteers) * ACTIVE_SHARE))]
        place.posts = list(Post.objects.filter(community=community).values_list("id", flat=True))
        return place

    # --- the bench volunteer's points ------------------------------------------------------------

    def award_bench_points(self, user: User, main: Community) -> int:
        """The per-hour points of the bench volunteer's confirmed hours, as confirmation
        awards them (credit's service, keyed by attendance); none twice."""
        resident = Resident.objects.filter(user=user).first()
        if resident is None:
            return 0
        try:
            rule = rule_for(community=main, code=HOUR_RULE_CODE)
        except ScoringRule.DoesNotExist:  # no standard (seed_credit_scale not run): no points
            return 0
        done = set(
            PointsEntry.objects.filter(
                idempotency_key__startswith="volunteer-hours:",
                credit_account__resident=resident,
            ).values_list("idempotency_key", flat=True)
        )
        awarded = 0
        for attendance in Attendance.objects.filter(
            user=user, confirmed_at__isnull=False, activity__community=main
        ).order_by("confirmed_at", "pk"):
            key = f"volunteer-hours:{attendance.pk}"
            hours = attendance.counted_hours or Decimal(0)
            if key in done or hours <= 0 or attendance.confirmed_at is None:
                continue
            try:
                with transaction.atomic():
                    points_award(
                        resident=resident,
                        rule=rule,
                        key=key,
                        now=attendance.confirmed_at,
                        quantity=hours,
                        actor=attendance.confirmed_by,
                        source=attendance,
                        awarder_checked=True,
                    )
            except ValidationError as exc:  # the day's cap, or the rule not yet valid
                if exc.code not in ("cap_reached", "rule_not_valid"):
                    raise
                continue
            awarded += 1
        return awarded

    # --- helpers ---------------------------------------------------------------------------------

    def fk_checks_off(self, cursor: Any) -> None:
        """Foreign-key triggers off for this transaction when allowed (superuser): every
        reference is built from rows read or written here. Else they stay on, only slower."""
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")

    def analyze(self) -> None:
        if connection.vendor != "postgresql":
            return
        tables = [
            m._meta.db_table
            for m in (Activity, SignUp, Attendance, Team, TeamMember, User, Resident)
        ]
        # VACUUM (the visibility map, for index-only scans) cannot run in a transaction.
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            cursor.execute(f"{verb} " + ", ".join(connection.ops.quote_name(t) for t in tables))
