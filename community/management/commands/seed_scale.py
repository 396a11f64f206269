"""`manage.py seed_scale --residents N`: a large made-up registry for benchmarks.

One street, one community of N residents (~2.5 per household) in estates of 16 buildings
× 2 units × 25 floors × 2 flats, two grids per estate, and a community-staff login the
benchmark logs in with. Every ID number is checksum-valid, encrypted, hashed and masked
exactly as `community.services.id_number_fields` stores it (no shortcut rows).

Rows go in with plain `bulk_create`: no django-simple-history rows are written, because
this is load data, not governance records anyone will audit.

Idempotent-ish: if the scale community already holds N residents it does nothing; with
fewer it adds estates until it holds N.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from accounts.models import User
from community.demo import birth_date, fake_id_number, fake_phone, person_name
from community.models import (
    Building,
    Community,
    Estate,
    Grid,
    Household,
    Membership,
    Organization,
    Resident,
    ResidentTag,
    Street,
    Unit,
)
from community.services import id_number_fields

STREET_CODE = "BENCH-SCALE"
COMMUNITY_CODE = "BENCH-SCALE-1"
BENCH_PHONE = "13900000001"
BENCH_PASSWORD = "linli-bench-2026"  # noqa: S105 (a published benchmark password)

BUILDINGS_PER_ESTATE = 16
UNITS_PER_BUILDING = 2
FLOORS = 25
FLATS_PER_FLOOR = 2
BUILDINGS_PER_GRID = 8
BATCH_SIZE = 2000
#: Phones of scale residents start here, clear of the demo's 1990000xxxx serials.
PHONE_SERIAL_OFFSET = 3_000_000

ESTATE_WORDS = "金桂 银杏 翠湖 春晖 锦绣 阳光 和平 幸福 康乐 华庭 紫荆 梧桐 兰亭 静安 明珠 东湖 西苑 南山 北辰 龙泉"
ESTATE_SUFFIXES = ("花园", "家园", "新村", "雅居", "小区")
#: Household sizes 1–5, mean ≈ 2.5 (the national census average is 2.62).
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5)
HOUSEHOLD_WEIGHTS = (17, 35, 29, 14, 5)


def estate_name(index: int) -> str:
    """A unique, readable estate name for the `index`-th scale estate: 金桂花园, 银杏花园 …"""
    words = ESTATE_WORDS.split()
    name = words[index % len(words)] + ESTATE_SUFFIXES[index // len(words) % len(ESTATE_SUFFIXES)]
    rounds = index // (len(words) * len(ESTATE_SUFFIXES))
    return f"{name}{rounds + 1}期" if rounds else name


class Command(BaseCommand):
    help = (
        "Bulk-create a benchmark registry of N made-up residents in one community "
        f"(code {COMMUNITY_CODE}) and a community-staff login {BENCH_PHONE}. Uses plain "
        "bulk_create: no simple-history rows are written for scale data. Does nothing "
        "if the community already has N residents; adds the missing ones otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--residents", type=int, default=100_000, help="target count")
        parser.add_argument(
            "--password", default=BENCH_PASSWORD, help="password of the benchmark login"
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        target: int = options["residents"]
        street, _ = Street.objects.get_or_create(
            code=STREET_CODE, defaults={"name": "规模测试街道"}
        )
        community, _ = Community.objects.get_or_create(
            code=COMMUNITY_CODE, defaults={"name": "规模测试社区", "street": street}
        )
        have = Resident.objects.filter(household__unit__building__estate__community=community)
        existing = have.count()
        if existing >= target:
            self.ensure_login(community, options["password"])
            self.stdout.write(
                f"seed_scale: {community.name} already has {existing} residents (>= {target}); "
                f"nothing to do ({time.perf_counter() - started:.1f}s)"
            )
            return

        company, _ = Organization.objects.get_or_create(
            kind=Organization.Kind.PROPERTY_COMPANY,
            name="规模测试物业服务有限公司",
            defaults={"street": street},
        )
        tags = {t.code: t for t in ResidentTag.objects.all()}
        estate_index = Estate.objects.filter(community=community).count()
        remaining = target - existing
        serial = existing
        totals = {"estates": 0, "households": 0, "residents": 0}
        while remaining > 0:
            # One transaction per estate: an interrupted run leaves whole estates, and the
            # next run tops up from the count it finds.
            rng = random.Random(f"{options['seed']}-{estate_index}")
            with transaction.atomic():
                households, residents = self.build_estate(
                    community, company, estate_index, remaining, serial, rng, tags
                )
            totals["estates"] += 1
            totals["households"] += households
            totals["residents"] += residents
            remaining -= residents
            serial += residents
            estate_index += 1
            self.stdout.write(f"  {estate_name(estate_index - 1)}: {residents} residents")
        self.analyze()
        self.ensure_login(community, options["password"])
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"seed_scale: created {totals['estates']} estates, {totals['households']} "
                f"households, {totals['residents']} residents in {community.name} "
                f"(now {existing + totals['residents']}) in {elapsed:.1f}s "
                f"({totals['residents'] / max(elapsed, 1e-9):,.0f} residents/s)"
            )
        )

    def build_estate(
        self,
        community: Community,
        company: Organization,
        index: int,
        remaining: int,
        serial: int,
        rng: random.Random,
        tags: dict[str, ResidentTag],
    ) -> tuple[int, int]:
        """One estate with its buildings, units and grids; fill flats until `remaining`."""
        estate = Estate.objects.create(
            community=community,
            name=estate_name(index),
            address=f"规模路{index + 1}号",
            property_company=company if index % 4 else None,  # every 4th: 三无小区
        )
        n_grids = math.ceil(BUILDINGS_PER_ESTATE / BUILDINGS_PER_GRID)
        grids = Grid.objects.bulk_create(
            [Grid(community=community, name=f"{estate.name}第{g + 1}网格") for g in range(n_grids)]
        )
        buildings = Building.objects.bulk_create(
            [
                Building(
                    estate=estate,
                    number=f"{b + 1}号楼",
                    floors=FLOORS,
                    grid=grids[b // BUILDINGS_PER_GRID],
                )
                for b in range(BUILDINGS_PER_ESTATE)
            ]
        )
        units = Unit.objects.bulk_create(
            [
                Unit(building=building, number=f"{u + 1}单元")
                for building in buildings
                for u in range(UNITS_PER_BUILDING)
            ]
        )
        # Flats are filled unit by unit; the last household takes only what is left.
        flats: list[Household] = []
        sizes: list[int] = []
        left = remaining
        for unit in units:
            for floor in range(1, FLOORS + 1):
                for door in range(1, FLATS_PER_FLOOR + 1):
                    if left <= 0:
                        break
                    size = min(left, rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_WEIGHTS)[0])
                    flats.append(
                        Household(
                            unit=unit,
                            room=f"{floor}{door:02d}",
                            area_m2=rng.choice((56, 72, 89, 98, 120, 135)),
                        )
                    )
                    sizes.append(size)
                    left -= size
        households = Household.objects.bulk_create(flats, batch_size=BATCH_SIZE)
        people: list[Resident] = []
        for household, size in zip(households, sizes, strict=True):
            for member in self.household_people(rng, household, size, serial):
                people.append(member)
            serial += size
        self.drop_id_clashes(people, rng)
        Resident.objects.bulk_create(people, batch_size=BATCH_SIZE)
        self.tag(people, rng, tags)
        return len(households), len(people)

    def household_people(
        self, rng: random.Random, household: Household, size: int, serial: int
    ) -> list[Resident]:
        """A plausible family: a head, a spouse, children, sometimes an elderly parent."""
        today = dt.date(2026, 11, 1)
        head_gender = rng.choice(("male", "female"))
        people = []
        surname = ""
        for i in range(size):
            if i == 0:
                gender, relation, born = head_gender, "head", birth_date(rng, 25, 85, today)
            elif i == 1:
                gender = "female" if head_gender == "male" else "male"
                relation, born = "spouse", birth_date(rng, 25, 85, today)
            elif i == 4:
                gender, relation = rng.choice(("male", "female")), "parent"
                born = birth_date(rng, 70, 95, today)
            else:
                gender, relation = rng.choice(("male", "female")), "child"
                born = birth_date(rng, 1, 30, today)
            name = person_name(rng, gender)
            if i == 0:
                surname = name[0]
            elif relation == "child":
                name = surname + name[1:]
            number = serial + i
            adult = born < today - dt.timedelta(days=16 * 365)
            people.append(
                Resident(
                    household=household,
                    name=name,
                    gender=gender,
                    birth_date=born,
                    phone=fake_phone(PHONE_SERIAL_OFFSET + number) if adult else "",
                    relation_to_head=relation,
                    moved_in_on=today - dt.timedelta(days=rng.randint(30, 9000)),
                    **id_number_fields(fake_id_number(rng, born, gender, number)),
                )
            )
        return people

    def drop_id_clashes(self, people: list[Resident], rng: random.Random) -> None:
        """Re-draw the rare made-up ID number that repeats one in this batch or the table."""
        hashes = [p.id_number_hash for p in people]
        taken: set[str | None] = set()
        for start in range(0, len(hashes), BATCH_SIZE):
            chunk = hashes[start : start + BATCH_SIZE]
            taken.update(
                Resident.objects.filter(id_number_hash__in=chunk).values_list(
                    "id_number_hash", flat=True
                )
            )
        seen: set[str | None] = set()
        for person in people:
            while person.id_number_hash in seen or person.id_number_hash in taken:
                assert person.birth_date is not None
                number = fake_id_number(rng, person.birth_date, person.gender, rng.randint(0, 99))
                for key, value in id_number_fields(number).items():
                    setattr(person, key, value)
            seen.add(person.id_number_hash)

    def tag(self, people: list[Resident], rng: random.Random, tags: dict[str, ResidentTag]) -> None:
        """Some party members and 80+ elders, so list pages prefetch real tags."""
        through = Resident.tags.through
        rows = []
        for person in people:
            age = 2026 - person.birth_date.year if person.birth_date else 0
            if "party-member" in tags and rng.random() < 0.08:
                rows.append(through(resident_id=person.pk, residenttag=tags["party-member"]))
            if "elderly-80" in tags and age >= 80:
                rows.append(through(resident_id=person.pk, residenttag=tags["elderly-80"]))
        through.objects.bulk_create(rows, batch_size=BATCH_SIZE)

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load (PostgreSQL).

        Without them the planner still believes the tables are nearly empty and walks all
        100,000 residents to sort out the first page (~200 ms instead of ~1 ms); a live
        database gets the same from autovacuum a while after such a load.
        """
        if connection.vendor != "postgresql":
            return
        tables = [
            model._meta.db_table
            for model in (Estate, Grid, Building, Unit, Household, Resident, Resident.tags.through)
        ]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))

    def ensure_login(self, community: Community, password: str) -> None:
        """The benchmark's login: community staff of the scale community."""
        user = User.objects.filter(phone=BENCH_PHONE).first()
        if user is None:
            user = User.objects.create_user(BENCH_PHONE, password, name="基准测试员", is_staff=True)
        elif not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(
            user=user, role=Membership.Role.COMMUNITY_STAFF, community=community
        )
        self.stdout.write(f"bench login: {BENCH_PHONE} (community staff of {community.name})")
