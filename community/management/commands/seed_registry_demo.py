"""`manage.py seed_registry_demo`: the registry part of the demo (`seed_demo` runs it first).

Idempotent: every row is found by its natural key (residents by their ID number's hash),
so running it again creates nothing new and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from accounts.models import User
from community.demo import birth_date, fake_id_number, fake_phone, person_name
from community.models import (
    DEFAULT_RESIDENT_TAGS,
    Building,
    Community,
    Estate,
    Grid,
    Household,
    Membership,
    Organization,
    Resident,
    ResidentTag,
    ServiceContact,
    Street,
    Unit,
)
from community.services import id_number_fields

DEMO_PASSWORD = "linli-demo-2026"  # noqa: S105 (a published demo password)

# (community, [(estate, has property company, buildings, units per building, floors)])
LAYOUT = [
    (
        ("青松社区", "QS"),
        [
            ("青松花园", True, 8, 2, 6),
            ("翠竹苑", True, 6, 2, 6),
            ("老邮电宿舍", False, 4, 1, 5),  # a 三无小区: no property company
        ],
    ),
    (
        ("枫林社区", "FL"),
        [("枫林雅居", True, 6, 2, 6), ("桂香里", True, 4, 2, 5), ("枫林新村", True, 4, 2, 6)],
    ),
]

#: The demo logins, printed at the end and listed in the README.
LOGINS = [
    ("13800000000", "系统管理员", "superuser"),
    ("13800000001", "陈主任", "community_admin"),
    ("13800000002", "刘干事", "community_staff"),
    ("13800000003", "周科长", "street_supervisor"),
    ("13800000004", "王网格", "grid_worker"),
    ("13800000014", "李网格", "grid_worker"),
    ("13800000024", "赵网格", "grid_worker"),
    ("13800000005", "孙经理", "property_staff"),
    ("13800000006", "吴干部", "partner_staff"),
    ("13800000007", "郑店员", "supermarket_clerk"),
    ("13800000008", "冯委员", "committee_member"),
    ("13800000009", "林阿姨", "resident"),
]


class Command(BaseCommand):
    help = "Create (idempotently) a demo street with ~2,000 made-up residents and a login per role."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic(durable=True):
            created = self.build()
        self.stdout.write(self.style.SUCCESS(f"demo data ready ({created} new residents)"))
        self.stdout.write(f"demo logins (password {DEMO_PASSWORD}):")
        for phone, name, role in LOGINS:
            self.stdout.write(f"  {phone}  {name}  {role}")

    def build(self) -> int:
        rng = random.Random(2026)  # the same demo every time
        today = dt.date(2026, 11, 1)
        street, _ = Street.objects.get_or_create(code="DEMO-QS", defaults={"name": "青松街道"})
        street_office, _ = Organization.objects.get_or_create(
            kind=Organization.Kind.STREET_OFFICE, name="青松街道办事处", defaults={"street": street}
        )
        property_co, _ = Organization.objects.get_or_create(
            kind=Organization.Kind.PROPERTY_COMPANY,
            name="安居物业服务有限公司",
            defaults={"street": street, "phone": "19900001000"},
        )
        partner, _ = Organization.objects.get_or_create(
            kind=Organization.Kind.PARTNER_UNIT,
            name="青松区供电服务中心",
            defaults={"street": street},
        )
        Organization.objects.get_or_create(
            kind=Organization.Kind.SOCIAL_ORGANIZATION,
            name="邻里互助服务社",
            defaults={"street": street},
        )
        Organization.objects.get_or_create(
            kind=Organization.Kind.MERCHANT, name="惠民便利店", defaults={"street": street}
        )
        tags = {
            code: ResidentTag.objects.get_or_create(code=code, defaults={"name": name})[0]
            for code, name in DEFAULT_RESIDENT_TAGS
        }

        communities = []
        new_residents = 0
        serial = 0
        for (c_name, c_code), estates in LAYOUT:
            community, _ = Community.objects.get_or_create(
                code=f"DEMO-{c_code}", defaults={"name": c_name, "street": street}
            )
            communities.append(community)
            Organization.objects.get_or_create(
                kind=Organization.Kind.COMMUNITY_OFFICE,
                name=f"{c_name}居委会",
                defaults={"street": street, "community": community},
            )
            grids = [
                Grid.objects.get_or_create(community=community, name=f"第{n}网格")[0]
                for n in "一二三"
            ]
            for e_index, (e_name, managed, n_buildings, n_units, floors) in enumerate(estates):
                estate, _ = Estate.objects.get_or_create(
                    community=community,
                    name=e_name,
                    defaults={
                        "address": f"青松路{100 + e_index * 20}号",
                        "property_company": property_co if managed else None,
                    },
                )
                for b in range(1, n_buildings + 1):
                    building, _ = Building.objects.get_or_create(
                        estate=estate,
                        number=f"{b}号楼",
                        defaults={"floors": floors, "grid": grids[(e_index + b) % len(grids)]},
                    )
                    for u in range(1, n_units + 1):
                        unit, _ = Unit.objects.get_or_create(building=building, number=f"{u}单元")
                        for floor in range(1, floors + 1):
                            for door in (1, 2):
                                household, _ = Household.objects.get_or_create(
                                    unit=unit,
                                    room=f"{floor}0{door}",
                                    defaults={"area_m2": rng.choice((56, 72, 89, 98, 120))},
                                )
                                people, serial = self.household_people(
                                    rng, household, today, serial
                                )
                                new_residents += self.save_people(people, tags, rng)
        self.logins(street, communities, property_co, partner, street_office)
        self.contacts(street, communities[0])
        return new_residents

    def household_people(
        self, rng: random.Random, household: Household, today: dt.date, serial: int
    ) -> tuple[list[Resident], int]:
        size = rng.choices((1, 2, 3, 4, 5), weights=(12, 30, 30, 20, 8))[0]
        people = []
        head_gender = rng.choice(("male", "female"))
        surname_pick = None
        for i in range(size):
            serial += 1
            if i == 0:
                gender, relation, born = head_gender, "head", birth_date(rng, 30, 85, today)
            elif i == 1:
                gender = "female" if head_gender == "male" else "male"
                relation, born = "spouse", birth_date(rng, 28, 85, today)
            elif i == 4:
                gender, relation, born = (
                    rng.choice(("male", "female")),
                    "parent",
                    birth_date(rng, 70, 95, today),
                )
            else:
                gender, relation, born = (
                    rng.choice(("male", "female")),
                    "child",
                    birth_date(rng, 1, 30, today),
                )
            name = person_name(rng, gender)
            if relation == "child" and surname_pick:
                name = surname_pick + name[1:]
            if i == 0:
                surname_pick = name[0]
            id_number = fake_id_number(rng, born, gender, serial)
            has_phone = born < today - dt.timedelta(days=16 * 365)
            people.append(
                Resident(
                    household=household,
                    name=name,
                    gender=gender,
                    birth_date=born,
                    phone=fake_phone(serial) if has_phone else "",
                    relation_to_head=relation,
                    moved_in_on=today - dt.timedelta(days=rng.randint(30, 9000)),
                    **id_number_fields(id_number),
                )
            )
        return people, serial

    def save_people(
        self, people: list[Resident], tags: dict[str, ResidentTag], rng: random.Random
    ) -> int:
        hashes = [p.id_number_hash for p in people]
        existing = set(
            Resident.objects.filter(id_number_hash__in=hashes).values_list(
                "id_number_hash", flat=True
            )
        )
        fresh = [p for p in people if p.id_number_hash not in existing]
        rolls = [rng.random() for _ in people]  # drawn always, so reruns stay in step
        if not fresh:
            return 0
        created = bulk_create_with_history(fresh, Resident)
        saved = Resident.objects.filter(id_number_hash__in=[p.id_number_hash for p in fresh])
        through = []
        for resident, roll in zip(saved.order_by("id"), rolls, strict=False):
            age = 2026 - resident.birth_date.year if resident.birth_date else 0
            if roll < 0.08:
                through.append(
                    Resident.tags.through(resident=resident, residenttag=tags["party-member"])
                )
            if age >= 80:
                through.append(
                    Resident.tags.through(resident=resident, residenttag=tags["elderly-80"])
                )
            if age >= 70 and roll > 0.95:
                through.append(
                    Resident.tags.through(resident=resident, residenttag=tags["elderly-alone"])
                )
            if 0.5 < roll < 0.52:
                through.append(
                    Resident.tags.through(resident=resident, residenttag=tags["low-income"])
                )
        Resident.tags.through.objects.bulk_create(through, ignore_conflicts=True)
        return len(created)

    def logins(
        self,
        street: Street,
        communities: list[Community],
        property_co: Organization,
        partner: Organization,
        street_office: Organization,
    ) -> None:
        main = communities[0]
        grids = list(Grid.objects.filter(community=main).order_by("id"))
        estate = Estate.objects.filter(community=main).order_by("id").first()
        area: dict[str, dict[str, Any]] = {
            "community_admin": {"community": main},
            "community_staff": {"community": main},
            "street_supervisor": {"street": street, "organization": street_office},
            "property_staff": {"organization": property_co},
            "partner_staff": {"organization": partner},
            "supermarket_clerk": {"community": main},
            "committee_member": {"estate": estate, "community": main},
        }
        grid_iter = iter(grids)
        for phone, name, role in LOGINS:
            user = User.objects.filter(phone=phone).first()
            if user is None:
                user = User.objects.create_user(
                    phone,
                    DEMO_PASSWORD,
                    name=name,
                    is_staff=role
                    in ("superuser", "community_admin", "community_staff", "street_supervisor"),
                    is_superuser=role == "superuser",
                )
            if role in ("superuser", "resident"):
                if role == "resident" and not hasattr(user, "resident"):
                    resident = (
                        Resident.objects.filter(
                            household__unit__building__estate=estate,
                            relation_to_head="head",
                            user__isnull=True,
                            gender="female",
                        )
                        .order_by("id")
                        .first()
                    )
                    if resident:
                        resident.user = user
                        resident.save(update_fields=["user"])
                continue
            kwargs = {"grid": next(grid_iter)} if role == "grid_worker" else area[role]
            Membership.objects.get_or_create(user=user, role=role, **kwargs)

    def contacts(self, street: Street, community: Community) -> None:
        entries = [
            ("water", "自来水公司客服", "96116", "24小时"),
            ("power", "供电抢修", "95598", "24小时"),
            ("gas", "燃气抢修", "96777", "24小时"),
            ("heating", "供热服务热线", "96069", "供暖季24小时"),
            ("telecom", "宽带报修", "10000", "8:00–20:00"),
            ("enforcement", "城管执法热线", "12319", "8:30–17:30"),
            ("police", "社区警务室", "19900002110", "8:30–17:30"),
        ]
        for category, name, phone, hours in entries:
            ServiceContact.objects.get_or_create(
                street=street,
                name=name,
                defaults={"category": category, "phone": phone, "hours": hours},
            )
        ServiceContact.objects.get_or_create(
            street=street,
            community=community,
            name="青松社区居委会值班电话",
            defaults={"category": "other", "phone": "19900001715", "hours": "24小时"},
        )
