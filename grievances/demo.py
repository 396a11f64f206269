"""Demo grievances: three weeks of a community's work orders in every status.

Everything goes through the services with a controlled `now` (filing, acceptance,
dispatch, check-in, waiting, plan, extension, resolution, rating, merge, rejection, cost
share), so the timelines and clocks are the real ones; a last SLA sweep at `now` records
the warnings and breaches a running worker would have. Deterministic (a seeded random
generator, rows in primary-key order) and idempotent: a community that already has demo
grievances gets none added.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from community.models import Building, Community, Household, Membership, Organization, Resident
from grievances import services
from grievances.categories import categories_install
from grievances.models import Category, Dispatch, Grievance, SlaClock, Tier

Role = Membership.Role
Channel = Grievance.Channel
#: The demo's "now" unless told otherwise: the same timeline whenever it is seeded.
DEMO_NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
DAYS = 21
MINUTE = dt.timedelta(minutes=1)

#: (category code, title, description) of what residents report, by category.
REPORTS: dict[str, list[tuple[str, str]]] = {
    "repair-leak": [
        ("卫生间天花板漏水", "楼上卫生间往下渗水，天花板有水渍，已经滴到地上。"),
        ("厨房墙面渗水", "下雨后厨房外墙一侧墙面发潮起皮。"),
    ],
    "repair-door-window": [("单元门门禁坏了", "单元门关不上，门禁刷卡没反应，晚上不安全。")],
    "repair-pipe": [("楼道排水管堵塞", "一楼排水管反水，楼道有异味。")],
    "repair-septic": [("化粪池满溢", "楼后化粪池满了往外冒，味道很大，需要清掏。")],
    "facility-manhole": [("井盖松动", "小区主路上的井盖踩上去晃动，老人孩子经过很危险。")],
    "facility-streetlight": [("路灯不亮", "小区东门到3号楼之间两盏路灯一直不亮。")],
    "facility-lift": [("电梯异响", "电梯运行时有咔咔的响声，停层不平。")],
    "facility-stair-light": [
        ("楼道声控灯不亮", "三楼到五楼的声控灯坏了，晚上上楼看不见。"),
        ("楼道灯常亮", "楼道灯白天也一直亮着，浪费电。"),
    ],
    "sanitation-garbage": [("垃圾桶满溢未清运", "垃圾分类亭的其他垃圾桶两天没人清运了。")],
    "sanitation-greenery": [("树枝遮挡窗户", "楼前大树树枝伸到二楼窗户，挡光还招虫子。")],
    "parking-occupied": [("车位被占", "我家的固定车位经常被外来车辆占用。")],
    "parking-illegal": [("消防通道旁乱停车", "晚上有车停在单元门口，救护车进不来。")],
    "neighbour-noise": [("楼上夜间噪音", "楼上每天晚上十一点以后还在拖动家具、跳绳。")],
    "neighbour-leak": [("楼上漏水不配合维修", "楼上漏水到我家，联系楼上住户不开门。")],
    "safety-fire-lane": [("消防通道堆放杂物", "楼道里堆了旧家具和纸箱，堵住了消防通道。")],
    "safety-flying-lead": [("飞线给电动车充电", "有住户从三楼窗户拉电线下来给电动车充电。")],
    "property-service": [("物业保洁不到位", "楼道一周没有打扫，扶手上都是灰。")],
    "suggestion": [
        ("建议增设休息座椅", "小区广场没有座椅，老人散步累了没地方坐。"),
        ("建议延长活动室开放时间", "活动室晚上七点就关门，上班族用不上。"),
    ],
}

#: What happens to each demo grievance, oldest first: (day, hour, category, fate).
#: Fates: how far the story goes; every status appears.
SCRIPT: list[tuple[int, int, str, str]] = [
    (20, 9, "repair-leak", "closed"),
    (20, 15, "facility-manhole", "closed_late"),
    (19, 10, "sanitation-garbage", "closed"),
    (19, 16, "neighbour-noise", "steward"),
    (18, 8, "facility-streetlight", "closed_auto"),
    (18, 14, "repair-septic", "cost_share"),
    (17, 11, "parking-occupied", "rejected"),
    (16, 9, "facility-stair-light", "closed"),
    (15, 13, "repair-door-window", "reopened_dispatched"),
    (14, 10, "suggestion", "office_answered"),
    (13, 9, "sanitation-greenery", "plan"),
    (12, 15, "repair-pipe", "extension"),
    (11, 10, "facility-lift", "closed"),
    (10, 16, "safety-fire-lane", "closed_auto"),
    (9, 9, "property-service", "reopened_office"),
    (8, 11, "repair-leak", "waiting"),
    (7, 14, "safety-flying-lead", "declined"),
    (6, 10, "parking-illegal", "closed"),
    (5, 9, "facility-streetlight", "breached"),
    (4, 20, "neighbour-leak", "transferred"),
    (3, 10, "repair-door-window", "on_site"),
    (3, 11, "repair-door-window", "merged"),  # the same door, reported again: merged
    (2, 9, "sanitation-garbage", "resolved"),
    (2, 15, "facility-stair-light", "resolved"),
    (1, 10, "repair-leak", "taken"),
    (1, 16, "suggestion", "anonymous"),
    (1, 19, "facility-manhole", "dispatched"),
    (0, 8, "parking-occupied", "accepted"),
    (0, 11, "facility-stair-light", "submitted"),
    (0, 12, "repair-pipe", "submitted"),
]


@dataclass
class People:
    office: User
    colleague: User
    grid_workers: list[User]
    property_staff: User | None
    partner: tuple[Organization, User] | None
    portal: list[Resident]
    residents: list[Resident]


def _office(community: Community) -> list[User]:
    return list(
        User.objects.filter(
            memberships__community=community,
            memberships__role__in=[Role.COMMUNITY_STAFF, Role.COMMUNITY_ADMIN],
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def _people(community: Community) -> People | None:
    office = _office(community)
    if not office:
        return None
    grid_workers = list(
        User.objects.filter(
            memberships__grid__community=community,
            memberships__role=Role.GRID_WORKER,
            memberships__is_active=True,
        )
        .distinct()
        .order_by("pk")
    )
    property_staff = (
        User.objects.filter(
            memberships__role=Role.PROPERTY_STAFF,
            memberships__is_active=True,
            memberships__organization__estates_served__community=community,
        )
        .distinct()
        .order_by("pk")
        .first()
    )
    partner_membership = (
        Membership.objects.filter(role=Role.PARTNER_STAFF, is_active=True)
        .filter(Q(organization__community=community) | Q(organization__street=community.street))
        .select_related("organization", "user")
        .order_by("pk")
        .first()
    )
    residents = list(
        Resident.objects.filter(
            household__unit__building__estate__community=community,
            status=Resident.Status.ACTIVE,
            relation_to_head=Resident.Relation.HEAD,
        )
        .select_related("household__unit__building")
        .order_by("pk")[:400]
    )
    portal = list(
        Resident.objects.filter(
            household__unit__building__estate__community=community,
            status=Resident.Status.ACTIVE,
            user__isnull=False,
            user__is_active=True,
        )
        .select_related("user", "household__unit__building")
        .order_by("pk")
    )
    return People(
        office=office[0],
        colleague=office[-1],
        grid_workers=grid_workers,
        property_staff=property_staff,
        partner=(
            (partner_membership.organization, partner_membership.user)
            if partner_membership and partner_membership.organization
            else None
        ),
        portal=portal,
        residents=residents,
    )


def _photo(rng: random.Random) -> bytes:
    """A small made-up "after" photo (a plain colour field)."""
    from PIL import Image

    image = Image.new("RGB", (64, 48), (rng.randint(90, 200), rng.randint(90, 200), 120))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


class _Story:
    """One demo grievance's walk through the services, with its own clock."""

    def __init__(self, demo: _Demo, grievance: Grievance, now: dt.datetime) -> None:
        self.demo, self.grievance, self.now = demo, grievance, now

    def after(self, minutes: int) -> dt.datetime:
        self.now += minutes * MINUTE
        return self.now

    @property
    def people(self) -> People:
        return self.demo.people

    def receiver_user(self, dispatch: Dispatch) -> User:
        """Who answers a dispatch: the named person, the company's staff, or the office."""
        if dispatch.assignee is not None:
            return dispatch.assignee
        org = dispatch.organization
        staff = self.people.property_staff
        if org is not None and org.kind == Organization.Kind.PROPERTY_COMPANY and staff:
            return staff
        if org is not None and self.people.partner and org == self.people.partner[0]:
            return self.people.partner[1]
        return self.people.office  # the office answers for its own desk and by phone

    def accept(self, tier: str | None = None) -> None:
        services.grievance_accept(
            grievance=self.grievance, actor=self.people.office, now=self.after(12), tier=tier
        )

    def dispatch(self, organization: Organization | None = None, assignee: Any = None) -> Dispatch:
        return services.grievance_dispatch(
            grievance=self.grievance,
            actor=self.people.office,
            now=self.after(5),
            organization=organization,
            assignee=assignee,
            note="请尽快处理，处理后上传照片。",
        )

    def take(self, dispatch: Dispatch, tier: str | None = None, minutes: int = 4) -> User:
        handler = self.receiver_user(dispatch)
        services.dispatch_accept(
            dispatch=dispatch, actor=handler, now=self.after(minutes), tier=tier
        )
        return handler

    def check_in(self, handler: User, minutes: int = 8) -> None:
        building = self.grievance.building
        lat, lng = self.demo.position(building)
        services.grievance_check_in(
            grievance=self.grievance,
            actor=handler,
            now=self.after(minutes),
            latitude=lat,
            longitude=lng,
            photo=_photo(self.demo.rng),
        )

    def resolve(
        self, handler: User, minutes: int = 40, note: str = "已处理完毕，现场已清理。"
    ) -> None:
        services.grievance_resolve(
            grievance=self.grievance,
            actor=handler,
            note=note,
            now=self.after(minutes),
            photos=[_photo(self.demo.rng)],
        )

    def rate(self, *, solved: bool, stars: int, comment: str, minutes: int = 300) -> None:
        reporter = self.grievance.reporter
        if reporter is not None and reporter.user_id is not None:
            actor, behalf = reporter.user, None
        elif reporter is None and self.grievance.submitted_by is not None:
            actor, behalf = self.grievance.submitted_by, None  # the grid worker checks it
        else:
            actor, behalf = self.people.office, reporter  # the hotline's follow-up call (回访)
        services.grievance_rate(
            grievance=self.grievance,
            actor=actor,
            solved=solved,
            stars=stars,
            comment=comment,
            now=self.after(minutes),
            on_behalf_of=behalf,
        )

    def full(self, *, late: bool = False) -> User:
        self.accept()
        dispatch = self.dispatch()
        handler = self.take(dispatch)
        self.check_in(handler, minutes=25 if late else 8)
        self.resolve(handler, minutes=90 if late else 35)
        return handler


class _Demo:
    def __init__(self, community: Community, people: People, now: dt.datetime) -> None:
        self.community, self.people, self.now = community, people, now
        self.rng = random.Random(f"grievances-demo:{community.code}")
        self.buildings = list(
            Building.objects.filter(estate__community=community)
            .select_related("estate")
            .order_by("pk")
        )
        self.made: list[Grievance] = []

    def property_company(self) -> Organization | None:
        for building in self.buildings:
            if building.estate.property_company_id:
                return building.estate.property_company
        return None

    def steward(self) -> Resident | None:
        residents = self.people.residents
        return residents[len(residents) // 2] if residents else None

    def position(self, building: Building | None) -> tuple[str, str]:
        """A made-up GPS position near the community (Shanghai-ish), steady per building."""
        index = building.pk % 97 if building is not None else 0
        return f"{31.2200 + index * 0.0003:.6f}", f"{121.4700 + index * 0.0002:.6f}"

    def file(self, number: int, when: dt.datetime, code: str, fate: str) -> _Story:
        category = Category.objects.get(code=code)
        title, description = self.rng.choice(REPORTS[code])
        people = self.people
        kwargs: dict[str, Any] = {
            "community": self.community,
            "category": category,
            "title": title,
            "description": description,
            "now": when,
            "source_ref": f"demo:{self.community.code}:{number}",
        }
        if category.attributes:
            kwargs["attributes"] = {
                a["code"]: a["values"][self.rng.randrange(len(a["values"]))]["key"]
                for a in category.attributes
                if a.get("datatype") == "singlevaluelist"
            }
        if fate == "anonymous":
            kwargs.update(
                channel=Channel.SUGGESTION_BOX,
                submitted_by=people.office,
                is_anonymous=True,
            )
        elif code == "suggestion":
            resident = self.rng.choice(people.residents)
            kwargs.update(
                channel=Channel.SUGGESTION_BOX, submitted_by=people.office, reporter=resident
            )
        elif fate == "merged":
            previous = self.made[-1]
            kwargs.update(
                channel=Channel.HOTLINE,
                submitted_by=people.office,
                building=previous.building,
                caller_phone="19900009999",
                caller_name="热心居民",
                title=previous.title,
            )
        elif people.portal and number % 4 == 0:
            kwargs.update(channel=Channel.PORTAL, submitted_by=people.portal[0].user)
        elif people.grid_workers and number % 4 == 1:
            worker = people.grid_workers[number % len(people.grid_workers)]
            grids = Membership.objects.filter(user=worker, role=Role.GRID_WORKER).values("grid_id")
            building = Building.objects.filter(grid_id__in=grids).order_by(
                "pk"
            ).first() or self.rng.choice(self.buildings)
            lat, lng = self.position(building)
            kwargs.update(
                channel=Channel.PATROL if code.startswith("safety") else Channel.GRID_WORKER,
                submitted_by=worker,
                building=building,
                latitude=lat,
                longitude=lng,
                photos=[_photo(self.rng)],
            )
        else:
            resident = self.rng.choice(people.residents)
            kwargs.update(
                channel=Channel.HOTLINE,
                submitted_by=people.office,
                reporter=resident,
                caller_name=resident.name,
                caller_phone=resident.phone or "19900000000",
            )
        grievance = services.grievance_file(**kwargs)
        self.made.append(grievance)
        return _Story(self, grievance, when)


def _play(story: _Story, fate: str, demo: _Demo) -> None:
    people = demo.people
    office = people.office
    if fate == "submitted":
        return
    if fate == "anonymous":
        story.accept()
        return
    if fate == "accepted":
        story.accept()
        return
    if fate == "rejected":
        services.grievance_reject(
            grievance=story.grievance,
            actor=office,
            reason="经核实为小区外部道路，已告知居民向城管部门反映。",
            now=story.after(30),
        )
        return
    if fate == "merged":
        services.grievance_merge(
            grievance=story.grievance,
            into=demo.made[-2],
            actor=office,
            now=story.after(15),
            note="与同一楼道的诉求重复，合并处理。",
        )
        return
    if fate == "dispatched":
        story.accept()
        story.dispatch()
        return
    if fate == "declined":
        story.accept()
        dispatch = story.dispatch(organization=demo.property_company())
        services.dispatch_decline(
            dispatch=dispatch,
            actor=story.receiver_user(dispatch),
            reason="飞线充电属于消防安全执法范围，不在物业合同内。",
            now=story.after(20),
        )
        return
    if fate == "transferred":
        story.accept()
        dispatch = story.dispatch()
        target = people.grid_workers[0] if people.grid_workers else people.colleague
        services.dispatch_transfer(
            dispatch=dispatch,
            actor=story.receiver_user(dispatch),
            reason="需要上门协调，转给网格员调解。",
            now=story.after(30),
            assignee=target,
        )
        return
    if fate == "taken":
        story.accept()
        story.take(story.dispatch())
        return
    if fate == "breached":
        story.accept()
        story.take(story.dispatch())  # nobody came: arrive and resolve clocks run out
        return
    if fate == "on_site":
        story.accept()
        handler = story.take(story.dispatch())
        story.check_in(handler)
        return
    if fate == "waiting":
        story.accept()
        handler = story.take(story.dispatch())
        story.check_in(handler)
        services.grievance_wait(
            grievance=story.grievance,
            actor=handler,
            reason="需更换防水层，等待材料到货",
            now=story.after(20),
        )
        return
    if fate == "plan":
        story.accept(tier=Tier.COMPLEX)
        handler = story.take(story.dispatch())
        story.check_in(handler)
        services.grievance_plan_submit(
            grievance=story.grievance,
            actor=handler,
            plan="联系园林公司修剪，需协调登高车，周末施工。",
            plan_due=(story.now + dt.timedelta(days=5)).date(),
            now=story.after(300),
        )
        return
    if fate == "extension":
        story.accept(tier=Tier.REPAIR_MEDIUM)
        handler = story.take(story.dispatch())
        story.check_in(handler)
        clock = SlaClock.objects.get(grievance=story.grievance, kind="repair_medium")
        request = services.deadline_extension_request(
            clock=clock,
            actor=handler,
            reason="需整段更换排水立管，厂家配件需一周到货。",
            now=story.after(24 * 60),
            extra_days=5,
        )
        decider = office if office != handler else people.colleague
        services.deadline_extension_decide(
            extension=request, actor=decider, approve=True, now=story.after(60), note="同意延期"
        )
        return
    if fate == "office_answered":
        story.accept()
        services.grievance_resolve(
            grievance=story.grievance,
            actor=office,
            note="已列入下季度社区微更新项目，届时在广场增设座椅。",
            now=story.after(2 * 24 * 60),
        )
        story.rate(solved=True, stars=5, comment="谢谢社区")
        return
    if fate == "reopened_office":
        story.accept()
        services.grievance_resolve(
            grievance=story.grievance,
            actor=office,
            note="已约谈物业负责人，要求每周保洁两次。",
            now=story.after(24 * 60),
        )
        story.rate(solved=False, stars=2, comment="还是没人打扫")
        return
    if fate == "steward":
        story.accept()
        steward = demo.steward()
        if steward is not None:
            services.grievance_steward_set(
                grievance=story.grievance, steward=steward, actor=office, now=story.after(10)
            )
        dispatch = story.dispatch()
        handler = story.take(dispatch)
        story.resolve(handler, minutes=6 * 60, note="小巷管家上门调解，双方约定晚十点后不再施工。")
        story.rate(solved=True, stars=5, comment="问题解决了，感谢调解")
        return
    # The rest is resolved by the handler first; "resolved" and "closed_auto" stop there
    # (the autoclose at the end closes the latter: three days without an answer).
    story.full(late=fate == "closed_late")
    if fate in ("closed", "closed_late"):
        story.rate(solved=True, stars=5 if fate == "closed" else 4, comment="处理及时，满意")
    elif fate == "reopened_dispatched":
        story.rate(solved=False, stars=2, comment="门还是关不严")
    elif fate == "cost_share":
        story.rate(solved=True, stars=4, comment="总算清掏了")
        _cost_share(story, demo)


def _cost_share(story: _Story, demo: _Demo) -> None:
    building = story.grievance.building
    households = list(
        Household.objects.filter(unit__building=building).order_by("pk")[:4]
        if building is not None
        else []
    )
    if len(households) < 2:
        return
    each = 120
    share = services.cost_share_create(
        grievance=story.grievance,
        description="化粪池清掏（物业合同外）",
        total=each * len(households),
        shares=dict.fromkeys(households, each),
        actor=demo.people.office,
        now=story.after(60),
    )
    for line in share.lines.order_by("household_id")[: len(households) - 1]:
        services.cost_share_line_pay(line=line, actor=demo.people.office, now=story.after(24 * 60))


def grievance_demo_build(*, community: Community, now: dt.datetime = DEMO_NOW) -> dict[str, int]:
    """Three weeks of the community's grievances in every status, through the services."""
    categories_install()
    if Grievance.objects.filter(
        community=community, source_ref__startswith=f"demo:{community.code}:"
    ).exists():
        return {"grievances": 0, "closed_automatically": 0}
    people = _people(community)
    if people is None or not people.residents:
        return {"grievances": 0, "closed_automatically": 0}
    demo = _Demo(community, people, now)
    today = timezone.localdate(now)
    for number, (day, hour, code, fate) in enumerate(SCRIPT, start=1):
        local = dt.datetime.combine(
            today - dt.timedelta(days=day), dt.time(hour, demo.rng.randint(0, 50))
        )
        when = timezone.make_aware(local, timezone.get_default_timezone())
        if when >= now - dt.timedelta(hours=1):
            when = now - dt.timedelta(hours=1 + number % 3)  # "today" is still early
        story = demo.file(number, when.astimezone(dt.UTC), code, fate)
        _play(story, fate, demo)
    closed = services.grievances_autoclose(now=now)
    from grievances.sla.sweep import sla_sweep

    sla_sweep(now=now, time_budget=None)
    return {"grievances": len(demo.made), "closed_automatically": closed}
