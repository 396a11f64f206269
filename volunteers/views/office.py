"""The community office's volunteering pages (desktop first, still usable at 375 px):
the office home, rosters, the activity calendar and a new activity, confirmations to do,
statistics and no-show blocks.

For community staff and admins, and superusers; anyone else gets 404. Staff of several
communities (and superusers) pick one with ?community=<pk>; the first is the default.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.phone import mask_phone
from community.models import Community
from volunteers.models import Activity, Team, TeamMember
from volunteers.selectors import office as selectors
from volunteers.selectors.stats import headcount, hours_statistics
from volunteers.services import (
    attendance_confirm,
    attendances_confirm,
    no_show_block_lift,
    team_member_add,
    team_member_leave,
)
from volunteers.services.activities import activity_create
from volunteers.views.common import refusal
from volunteers.views.office_forms import ActivityForm, MemberByPhoneForm, OutsideMemberForm

PAGE_SIZE = 20
#: "Confirm all shown" confirms at most one page of attendances.
CONFIRM_ALL_MAX = PAGE_SIZE


# --- the community the page is about ---------------------------------------------------------


@dataclass(frozen=True)
class Office:
    """The community a page shows and the others the user may switch to."""

    community: Community
    communities: list[Community]

    @property
    def query(self) -> str:
        """The query string that keeps the chosen community on links and forms."""
        return urlencode({"community": self.community.pk})

    def url(self, name: str, *args: Any, **params: Any) -> str:
        """An office page's address for this community, with extra query parameters."""
        query = urlencode({"community": self.community.pk, **params})
        return f"{reverse(name, args=args)}?{query}"


def _office(request: HttpRequest, community: Community | None = None) -> Office:
    """The office the request is for; 404 for anyone who is not staff of a community."""
    communities = list(selectors.office_communities(user=request.user))
    if not communities:
        raise Http404
    wanted = str(community.pk) if community is not None else request.GET.get("community", "")
    if not wanted:
        return Office(communities[0], communities)
    chosen = next((c for c in communities if str(c.pk) == wanted), None)
    if chosen is None:
        raise Http404
    return Office(chosen, communities)


def _render(
    request: HttpRequest, template: str, office: Office, section: str, **context: Any
) -> HttpResponse:
    return render(
        request,
        f"volunteers/office/{template}",
        {"office": office, "community": office.community, "section": section, **context},
    )


def _page(request: HttpRequest, items: Any) -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


# --- office home ---------------------------------------------------------------------------


@login_required
@require_GET
def office_home(request: HttpRequest) -> HttpResponse:
    """Headcount, what is waiting for the office, and the way to every page."""
    office = _office(request)
    return _render(
        request,
        "home.html",
        office,
        "home",
        headcount=headcount(user=request.user, community=office.community, now=timezone.now()),
        todo=selectors.office_todo(user=request.user, community=office.community),
    )


# --- rosters -------------------------------------------------------------------------------


@login_required
@require_GET
def teams(request: HttpRequest) -> HttpResponse:
    """The community's teams with leader and member count."""
    office = _office(request)
    return _render(
        request,
        "teams.html",
        office,
        "teams",
        teams=list(selectors.office_teams(user=request.user, community=office.community)),
    )


@dataclass(frozen=True)
class RosterRow:
    """A member as the roster shows them: the phone masked."""

    member: TeamMember
    name: str
    phone: str


def _roster_row(member: TeamMember) -> RosterRow:
    user = member.user
    name = member.name or (member.resident.name if member.resident is not None else "")
    if not name and user is not None:
        name = user.name or mask_phone(user.phone)
    phone = member.phone or (user.phone if user is not None else "")
    return RosterRow(member=member, name=name, phone=mask_phone(phone))


def _team(request: HttpRequest, pk: int) -> tuple[Team, Office]:
    team = selectors.office_team(user=request.user, pk=pk)
    if team is None:
        raise Http404
    return team, _office(request, community=team.community)


def _add_member(request: HttpRequest, team: Team, office: Office) -> tuple[Any, Any, bool]:
    """Bind the add form that was sent; add the member when it is valid. Returns both
    forms (one bound) and whether the member was added."""
    by_phone, outside = MemberByPhoneForm(prefix="account"), OutsideMemberForm(prefix="outside")
    now = timezone.now()
    try:
        if request.POST.get("how") == "outside":
            outside = OutsideMemberForm(request.POST, prefix="outside")
            if not outside.is_valid():
                return by_phone, outside, False
            data = outside.cleaned_data
            team_member_add(
                team=team,
                actor=request.user,
                now=now,
                name=data["name"],
                phone=data["phone"],
                employer=data["employer"],
                party_branch=data["party_branch"],
                role=data["role"],
            )
        else:
            by_phone = MemberByPhoneForm(request.POST, prefix="account")
            if not by_phone.is_valid():
                return by_phone, outside, False
            found = selectors.user_by_phone(
                user=request.user, community=office.community, phone=by_phone.cleaned_data["phone"]
            )
            if found is None:
                by_phone.add_error("phone", _("Nobody has an account with this phone number."))
                return by_phone, outside, False
            team_member_add(
                team=team,
                actor=request.user,
                now=now,
                user=found,
                role=by_phone.cleaned_data["role"],
            )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
        return by_phone, outside, False
    return by_phone, outside, True


@login_required
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest, pk: int) -> HttpResponse:
    """A team's roster, and adding a member (an account by phone, or an outside person)."""
    team, office = _team(request, pk)
    if request.method == "POST":
        by_phone, outside, added = _add_member(request, team, office)
        if added:
            messages.success(request, _("Member added."))
            return redirect(office.url("volunteers:office-team", team.pk))
    else:
        by_phone, outside = MemberByPhoneForm(prefix="account"), OutsideMemberForm(prefix="outside")
    roster = [_roster_row(m) for m in selectors.team_roster(user=request.user, team=team)]
    return _render(
        request,
        "team.html",
        office,
        "teams",
        team=team,
        roster=roster,
        by_phone=by_phone,
        outside=outside,
        show_outside=request.method == "POST" and request.POST.get("how") == "outside",
    )


@login_required
@require_POST
def team_member_remove(request: HttpRequest, pk: int, member: int) -> HttpResponse:
    """Take a member off the roster (the record is kept with the day they left)."""
    team, office = _team(request, pk)
    found = selectors.team_member(user=request.user, team=team, pk=member)
    if found is None:
        raise Http404
    try:
        team_member_leave(member=found, actor=request.user, now=timezone.now())
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(request, _("Member removed from the team."))
    return redirect(office.url("volunteers:office-team", team.pk))


# --- activity calendar ---------------------------------------------------------------------


def _month(raw: str, today: dt.date) -> dt.date:
    """The first day of the month asked for as YYYY-MM; this month when unreadable."""
    try:
        year, month = (int(part) for part in raw.split("-"))
        return dt.date(year, month, 1) if 2000 <= year <= 2100 else today.replace(day=1)
    except ValueError:
        return today.replace(day=1)


def _next_month(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    in_month: bool
    is_today: bool
    is_past: bool
    activities: list[Activity]


@login_required
@require_GET
def activity_calendar(request: HttpRequest) -> HttpResponse:
    """A month of the community's activities: a grid on desktop, a list of days on phones."""
    office = _office(request)
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    first = _month(request.GET.get("month", ""), today)
    after = _next_month(first)
    start = dt.datetime(first.year, first.month, 1, tzinfo=tz)
    end = dt.datetime(after.year, after.month, 1, tzinfo=tz)
    by_day: dict[dt.date, list[Activity]] = {}
    for activity in selectors.calendar_activities(
        user=request.user, community=office.community, start=start, end=end
    ):
        by_day.setdefault(timezone.localtime(activity.starts_at, tz).date(), []).append(activity)
    weeks = [
        [
            CalendarDay(
                date=day,
                in_month=day.month == first.month,
                is_today=day == today,
                is_past=day < today,
                activities=by_day.get(day, []),
            )
            for day in week
        ]
        for week in calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(
            first.year, first.month
        )
    ]
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    return _render(
        request,
        "calendar.html",
        office,
        "calendar",
        month=first,
        weeks=weeks,
        days=[day for week in weeks for day in week if day.in_month and day.activities],
        previous_url=office.url("volunteers:office-calendar", month=f"{previous:%Y-%m}"),
        next_url=office.url("volunteers:office-calendar", month=f"{after:%Y-%m}"),
        today_url=office.url("volunteers:office-calendar"),
        new_url=office.url("volunteers:office-activity-new"),
    )


def _initial(raw: str) -> dict[str, Any]:
    """A new activity on the day picked in the calendar: 09:00–11:00 by default."""
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return {}
    tz = timezone.get_current_timezone()
    starts = dt.datetime.combine(day, dt.time(9), tzinfo=tz)
    return {"starts_at": starts, "ends_at": starts + dt.timedelta(hours=2)}


@login_required
@require_http_methods(["GET", "POST"])
def activity_new(request: HttpRequest) -> HttpResponse:
    """Create an activity of the community (staff: any team of it, or none)."""
    office = _office(request)
    choices = {
        "teams": selectors.community_teams(user=request.user, community=office.community),
        "posts": selectors.community_posts(user=request.user, community=office.community),
    }
    if request.method != "POST":
        form = ActivityForm(initial=_initial(request.GET.get("date", "")), **choices)
    else:
        form = ActivityForm(request.POST, **choices)
        if form.is_valid():
            data = form.cleaned_data
            try:
                activity = activity_create(
                    community=office.community, actor=request.user, now=timezone.now(), **data
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except PermissionDenied as exc:
                messages.error(request, refusal(exc))
            else:
                messages.success(
                    request, _("Activity created: %(title)s.") % {"title": activity.title}
                )
                month = f"{timezone.localtime(activity.starts_at):%Y-%m}"
                return redirect(office.url("volunteers:office-calendar", month=month))
    return _render(request, "activity_new.html", office, "calendar", form=form)


# --- confirmations to do -------------------------------------------------------------------


@login_required
@require_GET
def confirmations(request: HttpRequest) -> HttpResponse:
    """Finished attendances waiting for a second person's confirmation, oldest first."""
    office = _office(request)
    page = _page(
        request, selectors.confirmations_to_do(user=request.user, community=office.community)
    )
    return _render(
        request,
        "confirmations.html",
        office,
        "confirmations",
        page=page,
        rows=[(a, mask_phone(a.user.phone)) for a in page.object_list],
        shown_ids=[a.pk for a in page.object_list if a.user_id != request.user.pk],
    )


def _back_to_confirmations(request: HttpRequest, office: Office) -> HttpResponse:
    page = request.POST.get("page", "")
    extra = {"page": page} if page.isdigit() else {}
    return redirect(office.url("volunteers:office-confirmations", **extra))


@login_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm one attendance's hours (the volunteer gets the points once)."""
    office = _office(request)
    attendance = selectors.confirmation_to_do(user=request.user, community=office.community, pk=pk)
    if attendance is None:
        raise Http404
    try:
        attendance_confirm(attendance=attendance, actor=request.user, now=timezone.now())
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(request, _("Hours confirmed."))
    return _back_to_confirmations(request, office)


def _ids(request: HttpRequest) -> list[int]:
    raw = request.POST.getlist("ids")
    ids = sorted({int(v) for v in raw if v.isdigit() and 0 < int(v) < 2**63})
    return ids[:CONFIRM_ALL_MAX]


@login_required
@require_POST
def confirm_all(request: HttpRequest) -> HttpResponse:
    """Confirm every attendance the page showed, each on its own; one's own are skipped."""
    office = _office(request)
    todo = selectors.confirmations_to_do(user=request.user, community=office.community)
    outcome = attendances_confirm(
        attendances=todo.filter(pk__in=_ids(request)), actor=request.user, now=timezone.now()
    )
    for attendance, exc in outcome.refused:
        messages.error(request, f"{attendance.user} · {attendance.activity}: {refusal(exc)}")
    done, own = outcome.confirmed, outcome.own_skipped
    if done:
        messages.success(
            request,
            ngettext("%(n)d attendance confirmed.", "%(n)d attendances confirmed.", done)
            % {"n": done},
        )
    if own:
        messages.info(
            request,
            ngettext(
                "%(n)d of your own attendances was skipped: someone else confirms it.",
                "%(n)d of your own attendances were skipped: someone else confirms them.",
                own,
            )
            % {"n": own},
        )
    return _back_to_confirmations(request, office)


# --- statistics ----------------------------------------------------------------------------


def _year(raw: str, today: dt.date) -> int:
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else today.year


def _export_url(name: str, community: Community, year: int) -> str | None:
    """The Excel export's address; None while that page does not exist yet."""
    try:
        path = reverse(name)
    except NoReverseMatch:
        return None
    return f"{path}?{urlencode({'community': community.pk, 'year': year})}"


@login_required
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """Headcount and the year's confirmed hours per team, per month and per post."""
    office = _office(request)
    today = timezone.localdate()
    year = _year(request.GET.get("year", ""), today)
    stats = hours_statistics(user=request.user, community=office.community, year=year)
    months = stats.by_month if stats is not None else []
    most = max((hours for _m, hours, _n in months), default=0) or 1
    return _render(
        request,
        "stats.html",
        office,
        "stats",
        year=year,
        years=list(range(today.year, today.year - 5, -1)),
        headcount=headcount(user=request.user, community=office.community, now=timezone.now()),
        stats=stats,
        months=[
            (dt.date(year, m, 1), hours, n, round(float(hours) * 100 / float(most)))
            for m, hours, n in months
        ],
        export_roster=_export_url("volunteers:export-roster", office.community, year),
        export_hours=_export_url("volunteers:export-hours", office.community, year),
    )


# --- no-show blocks ------------------------------------------------------------------------


@login_required
@require_GET
def blocks(request: HttpRequest) -> HttpResponse:
    """Volunteers blocked from signing up after too many no-shows."""
    office = _office(request)
    page = _page(request, selectors.open_blocks(user=request.user, community=office.community))
    return _render(
        request,
        "blocks.html",
        office,
        "blocks",
        page=page,
        rows=[(b, mask_phone(b.user.phone)) for b in page.object_list],
    )


@login_required
@require_POST
def block_lift(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift a block: the volunteer may sign up again."""
    office = _office(request)
    block = selectors.open_block(user=request.user, community=office.community, pk=pk)
    if block is None:
        raise Http404
    try:
        no_show_block_lift(block=block, actor=request.user, now=timezone.now())
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(request, _("Block lifted: the volunteer may sign up again."))
    return redirect(office.url("volunteers:office-blocks"))
