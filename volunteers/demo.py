"""Demo volunteers: teams, the ten posts, party members and a month of activities.

Rosters, registrations, sign-ups, check-ins, check-outs and confirmations go through the
services with a controlled `now`, so the hours and the points they earn are the real
ones. Teams and activities have no service of their own (staff create them in the
admin), so they are found or created by their natural keys. Deterministic (a seeded
random generator, people in primary-key order) and idempotent: every step finds what a
previous run made, so a second run adds nothing.

The past month ends at the fixed `now`; the few activities still open for sign-up are
placed after `upcoming_from` (the real time by default), so the volunteer page has
something to sign up for whenever the demo is seeded.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from community.models import Community, Membership, Resident
from volunteers.models import (
    Activity,
    Attendance,
    PartyMemberRegistration,
    Post,
    ServiceRecord,
    SignUp,
    Team,
    TeamMember,
)
from volunteers.services import (
    activity_signup,
    attendance_check_in,
    attendance_check_out,
    attendance_confirm,
    attendance_no_show,
    party_member_register,
    posts_install,
    registration_confirm,
    service_record_add,
    team_member_add,
)

Role = Membership.Role
#: The demo's "now" unless told otherwise: the same month whenever it is seeded.
DEMO_NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
DAYS = 28
#: Residents of the community given a volunteer login (besides those who have one).
VOLUNTEER_ACCOUNTS = 10
#: The demo resident login: always on the service team.
DEMO_RESIDENT_PHONE = "13800000009"

STEWARDS = (Team.Kind.STEWARD, "小巷管家")
WOMENS_PATROL = (Team.Kind.WOMENS_PATROL, "巾帼巡逻队")
SERVICE = (Team.Kind.SERVICE, "便民服务队")

#: (name, phone, employer, party branch, skills, free hours, post code or "" = pending)
PARTY_MEMBERS: list[tuple[str, str, str, str, str, str, str]] = [
    (
        "周建华",
        "13700000101",
        "青松区税务局",
        "区税务局第二党支部",
        "政策讲解",
        "周末上午",
        "policy-promotion",
    ),
    (
        "高丽萍",
        "13700000102",
        "青松区人民医院",
        "区人民医院护理党支部",
        "量血压、健康咨询",
        "周六全天",
        "convenience-service",
    ),
    (
        "马志强",
        "13700000103",
        "青松供电服务中心",
        "供电服务中心党支部",
        "电工",
        "工作日晚上",
        "fire-safety",
    ),
    (
        "何文静",
        "13700000104",
        "青松区第一小学",
        "第一小学党支部",
        "书法、辅导作业",
        "周日下午",
        "",
    ),
]

#: What the service team does on a Saturday: (item, low, high) counts.
SERVICE_ITEMS = [("义剪", 8, 15), ("磨刀", 5, 12), ("量血压", 10, 20)]


@dataclass
class People:
    staff: User
    volunteers: list[User]
    demo_resident: User | None


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _residents(community: Community) -> Any:
    return Resident.objects.filter(
        household__unit__building__estate__community=community, status=Resident.Status.ACTIVE
    )


def _people(community: Community, today: dt.date) -> People | None:
    staff = (
        User.objects.filter(
            memberships__community=community,
            memberships__role__in=[Role.COMMUNITY_STAFF, Role.COMMUNITY_ADMIN],
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("pk")
        .first()
    )
    if staff is None:
        return None
    residents = _residents(community)
    with_login = residents.filter(user__isnull=False).count()
    # Some residents signed up on the portal to volunteer: a login without a password
    # (they sign in by SMS code), linked to their registry record.
    adults = Q(birth_date__lte=today - dt.timedelta(days=20 * 365)) & Q(
        birth_date__gte=today - dt.timedelta(days=70 * 365)
    )
    wanted = max(VOLUNTEER_ACCOUNTS - with_login, 0)
    candidates = residents.filter(adults, user__isnull=True).exclude(phone="").order_by("pk")
    # Half of them women: the women's patrol needs its members.
    women = list(candidates.filter(gender="female")[: (wanted + 1) // 2])
    others = list(candidates.exclude(gender="female")[: wanted - len(women)])
    for resident in sorted(women + others, key=lambda r: r.pk):
        if User.objects.filter(phone=resident.phone).exists():
            continue
        user = User.objects.create_user(resident.phone, None, name=resident.name)
        resident.user = user
        resident.save(update_fields=["user"])
    volunteers = list(
        User.objects.filter(resident__in=residents, is_active=True).order_by("pk").distinct()
    )
    demo_resident = next((u for u in volunteers if u.phone == DEMO_RESIDENT_PHONE), None)
    return People(staff=staff, volunteers=volunteers, demo_resident=demo_resident)


def _team(community: Community, spec: tuple[str, str], leader: User | None) -> tuple[Team, bool]:
    kind, name = spec
    return Team.objects.get_or_create(
        community=community, name=name, defaults={"kind": kind, "leader": leader}
    )


def _member(team: Team, staff: User, now: dt.datetime, **who: Any) -> int:
    """Add somebody to a team through the roster service, unless already on it."""
    on_team = TeamMember.objects.filter(team=team, left_at__isnull=True)
    if "user" in who:
        on_team = on_team.filter(user=who["user"])
    else:
        on_team = on_team.filter(user__isnull=True, resident__isnull=True, name=who["name"])
    if on_team.exists():
        return 0
    team_member_add(team=team, actor=staff, now=now, **who)
    return 1


def _registrations(community: Community, staff: User, start: dt.datetime) -> int:
    made = 0
    for n, (name, phone, employer, branch, skills, hours, post_code) in enumerate(PARTY_MEMBERS):
        if PartyMemberRegistration.objects.filter(community=community, phone=phone).exists():
            continue
        when = start + dt.timedelta(days=n, hours=2)
        registration = party_member_register(
            community=community,
            name=name,
            phone=phone,
            employer=employer,
            party_branch=branch,
            skills=skills,
            free_hours=hours,
            now=when,
        )
        made += 1
        if post_code:
            post = Post.objects.get(community=community, code=post_code)
            registration_confirm(
                registration=registration,
                post=post,
                duties=post.duties,
                actor=staff,
                now=when + dt.timedelta(days=1),
            )
    return made


@dataclass
class Plan:
    team: Team
    post_code: str
    kind: str
    title: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    audience: str = Activity.Audience.OPEN


def _month(community: Community, teams: dict[str, Team], now: dt.datetime) -> list[Plan]:
    """The past month: patrol shifts twice a week, Saturday service days, one cleanup."""
    plans = []
    last = timezone.localdate(now) - dt.timedelta(days=1)
    for back in range(DAYS, 0, -1):
        day = last - dt.timedelta(days=back - 1)
        weekday = day.weekday()
        if weekday in (1, 3):  # Tuesday and Thursday evenings
            plans.append(
                Plan(
                    teams["patrol"],
                    "security-patrol",
                    Activity.Kind.PATROL,
                    f"巾帼巡逻 {day:%m月%d日}晚班",
                    "青松花园、翠竹苑楼院",
                    _local(day, 19),
                    _local(day, 21),
                    4,
                )
            )
        elif weekday == 5:  # Saturday mornings
            plans.append(
                Plan(
                    teams["service"],
                    "convenience-service",
                    Activity.Kind.SERVICE_DAY,
                    f"周六便民服务日 {day:%m月%d日}（理发、磨刀）",
                    "社区广场",
                    _local(day, 9),
                    _local(day, 11, 30),
                    6,
                )
            )
    cleanup = last - dt.timedelta(days=(last.weekday() + 1) % 7 + 7)  # the Sunday before last
    plans.append(
        Plan(
            teams["stewards"],
            "environment",
            Activity.Kind.CLEANUP,
            f"楼院环境大扫除 {cleanup:%m月%d日}",
            "老邮电宿舍",
            _local(cleanup, 8, 30),
            _local(cleanup, 10, 30),
            10,
        )
    )
    return plans


def _upcoming(teams: dict[str, Team], after: dt.datetime) -> list[Plan]:
    """The next Saturday service day and the next patrol shift, open for sign-up."""
    first = timezone.localdate(after) + dt.timedelta(days=1)
    saturday = first + dt.timedelta(days=(5 - first.weekday()) % 7)
    tuesday = first + dt.timedelta(days=(1 - first.weekday()) % 7)
    return [
        Plan(
            teams["service"],
            "convenience-service",
            Activity.Kind.SERVICE_DAY,
            f"周六便民服务日 {saturday:%m月%d日}（理发、磨刀）",
            "社区广场",
            _local(saturday, 9),
            _local(saturday, 11, 30),
            6,
        ),
        Plan(
            teams["patrol"],
            "security-patrol",
            Activity.Kind.PATROL,
            f"巾帼巡逻 {tuesday:%m月%d日}晚班",
            "青松花园、翠竹苑楼院",
            _local(tuesday, 19),
            _local(tuesday, 21),
            4,
            Activity.Audience.TEAM,  # the women's patrol walks its own shifts
        ),
    ]


def _activity(community: Community, plan: Plan) -> tuple[Activity, bool]:
    return Activity.objects.get_or_create(
        community=community,
        title=plan.title,
        starts_at=plan.starts_at,
        defaults={
            "kind": plan.kind,
            "place": plan.place,
            "ends_at": plan.ends_at,
            "team": plan.team,
            "post": Post.objects.get(community=community, code=plan.post_code),
            "capacity": plan.capacity,
            "audience": plan.audience,
        },
    )


def _roster_users(team: Team) -> list[User]:
    return list(
        User.objects.filter(
            volunteer_memberships__team=team, volunteer_memberships__left_at__isnull=True
        )
        .order_by("pk")
        .distinct()
    )


def _story(activity: Activity, team: Team, staff: User) -> None:
    """Sign-ups two days before, check-in and out on the day, hours confirmed after."""
    # A generator of the activity's own: a rerun draws the same, whatever it skips.
    rng = random.Random(f"volunteers-{activity.community_id}-{activity.starts_at.timestamp()}")
    roster = _roster_users(team)
    going = sorted(rng.sample(roster, min(len(roster), activity.capacity)), key=lambda u: u.pk)
    # A rerun keeps who went and who stayed away the first time, whatever it draws now.
    earlier = SignUp.objects.filter(activity=activity, status=SignUp.Status.SIGNED_UP)
    if earlier.exists():
        going = list(User.objects.filter(volunteer_signups__in=earlier).order_by("pk"))
    for n, user in enumerate(going):
        activity_signup(
            activity=activity,
            user=user,
            now=activity.starts_at - dt.timedelta(days=2, minutes=-n * 7),
        )
    activity.refresh_from_db()
    absent = going[-1] if len(going) > 2 and rng.random() < 0.15 else None
    if absent is not None and Attendance.objects.filter(user=absent, no_show=True).exists():
        absent = None  # once is enough: more would block them from signing up
    attended = Attendance.objects.filter(activity=activity)
    if attended.exists():
        absent = User.objects.filter(
            volunteer_attendances__in=attended.filter(no_show=True)
        ).first()
    confirmer = team.leader or staff
    for user in going:
        if user == absent:
            signup = SignUp.objects.get(
                activity=activity, user=user, status=SignUp.Status.SIGNED_UP
            )
            attendance_no_show(
                signup=signup, actor=staff, now=activity.ends_at + dt.timedelta(hours=1)
            )
            continue
        attendance_check_in(
            activity=activity,
            user=user,
            now=activity.starts_at - dt.timedelta(minutes=rng.randint(0, 15)),
        )
        leaves = activity.ends_at + dt.timedelta(minutes=rng.randint(-40, 20))
        attendance = attendance_check_out(activity=activity, user=user, now=leaves)
        if attendance.confirmed_at is None:
            attendance_confirm(
                attendance=attendance,
                actor=staff if confirmer.pk == user.pk else confirmer,
                now=activity.ends_at + dt.timedelta(hours=2),
            )
    if activity.kind == Activity.Kind.SERVICE_DAY and not activity.service_records.exists():
        service_record_add(
            activity=activity,
            entries=[
                {"item": item, "count": rng.randint(low, high), "beneficiaries": "社区居民"}
                for item, low, high in SERVICE_ITEMS
            ],
            actor=confirmer,
            now=activity.ends_at + dt.timedelta(minutes=30),
        )


def volunteer_demo_build(
    *,
    community: Community,
    now: dt.datetime = DEMO_NOW,
    upcoming_from: dt.datetime | None = None,
) -> dict[str, int]:
    """Teams, posts, party members and a month of volunteering for a demo community."""
    counts = {
        "posts": 0,
        "teams": 0,
        "members": 0,
        "registrations": 0,
        "activities": 0,
        "signups": 0,
        "attendances": 0,
        "service_records": 0,
    }
    start = now - dt.timedelta(days=DAYS + 7)
    people = _people(community, timezone.localdate(now))
    if people is None:
        return counts
    counts["posts"] = posts_install(community=community)
    signups_before = SignUp.objects.filter(activity__community=community).count()
    attendances_before = Attendance.objects.filter(activity__community=community).count()
    records_before = ServiceRecord.objects.filter(activity__community=community).count()

    volunteers = people.volunteers
    # Women lead the women's patrol; the steward team is led by a long-time volunteer.
    women = [u for u in volunteers if u.resident.gender == "female"] or volunteers
    leaders = {
        "stewards": volunteers[0] if volunteers else None,
        "patrol": women[-1] if women else None,
        "service": volunteers[1] if len(volunteers) > 1 else None,
    }
    teams: dict[str, Team] = {}
    for key, spec in (("stewards", STEWARDS), ("patrol", WOMENS_PATROL), ("service", SERVICE)):
        team, created = _team(community, spec, leaders[key])
        teams[key] = team
        counts["teams"] += created

    rosters: dict[str, list[User]] = {
        "stewards": volunteers[0::2],
        "patrol": women[-5:],  # the leader among them
        "service": volunteers[1::2],
    }
    if people.demo_resident is not None and people.demo_resident not in rosters["service"]:
        rosters["service"].append(people.demo_resident)
    for key, users in rosters.items():
        team = teams[key]
        for user in users:
            role = TeamMember.Role.LEADER if team.leader_id == user.pk else TeamMember.Role.MEMBER
            counts["members"] += _member(team, people.staff, start, user=user, role=role)

    counts["registrations"] = _registrations(community, people.staff, start)
    # Confirmed party members serve on the team of their post, without a login.
    service_post = Post.objects.get(community=community, code="convenience-service")
    for registration in PartyMemberRegistration.objects.filter(
        community=community, status=PartyMemberRegistration.Status.CONFIRMED
    ).order_by("pk"):
        serves_on = "service" if registration.post_id == service_post.pk else "stewards"
        counts["members"] += _member(
            teams[serves_on],
            people.staff,
            registration.updated_at,
            name=registration.name,
            phone=registration.phone,
            employer=registration.employer,
            party_branch=registration.party_branch,
        )

    for plan in _month(community, teams, now):
        activity, created = _activity(community, plan)
        counts["activities"] += created
        _story(activity, plan.team, people.staff)

    after = max(now, upcoming_from or timezone.now())
    open_ahead = Activity.objects.filter(
        community=community, starts_at__gt=after, signup_open=True
    ).exists()
    if not open_ahead:
        for plan in _upcoming(teams, after):
            created = _activity(community, plan)[1]
            counts["activities"] += created
    counts["signups"] = (
        SignUp.objects.filter(activity__community=community).count() - signups_before
    )
    counts["attendances"] = (
        Attendance.objects.filter(activity__community=community).count() - attendances_before
    )
    counts["service_records"] = (
        ServiceRecord.objects.filter(activity__community=community).count() - records_before
    )
    return counts
