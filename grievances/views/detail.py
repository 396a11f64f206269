"""The grievance page (/grievances/<pk>/): one page for every party, phone-first.

Header, the SLA clocks (time left computed from the clock columns at render time, and
refreshed every minute by htmx), the timeline (internal notes only for those who work on
it), the photos, and the forms of the actions this user may take now. Each form posts to
/grievances/<pk>/<action>/ (views.actions). A grievance outside the user's scope is 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.phone import mask_phone
from credit.selectors.boards import display_surname
from grievances import workflow
from grievances.models import DeadlineExtension, Grievance, SlaClock, Tier, TimelineEvent
from grievances.selectors.f2_detail import (
    Roles,
    cost_share_households,
    dispatch_organizations,
    dispatch_people,
    grievance_page_state,
)
from grievances.selectors.grievances import (
    grievance_default_receiver,
    grievance_detail,
    grievance_photos,
    grievance_timeline,
)
from grievances.sla.clocks import clock_time_left, span_text

Status = Grievance.Status
State = SlaClock.State

#: Bootstrap colours of the status badge.
STATUS_BADGE = {
    Status.SUBMITTED: "text-bg-secondary",
    Status.ACCEPTED: "text-bg-info",
    Status.DISPATCHED: "text-bg-primary",
    Status.ON_SITE: "text-bg-primary",
    Status.WAITING: "text-bg-warning",
    Status.RESOLVED: "text-bg-success",
    Status.CLOSED: "text-bg-dark",
    Status.REJECTED: "text-bg-danger",
    Status.MERGED: "text-bg-light border",
    Status.REOPENED: "text-bg-warning",
}
#: Timeline values that are codes of a status, a clock state or an extension decision.
_VALUE_LABELS: dict[str, Any] = {
    **{s.value: s.label for s in Status},
    **{s.value: s.label for s in State},
    **{s.value: s.label for s in DeadlineExtension.Status},
}


#: Timeline lines whose note already says what changed (the clock lines repeat their times).
_NOTE_SAYS_IT = frozenset({TimelineEvent.Kind.CLOCK, TimelineEvent.Kind.ESCALATED})


def time_left_text(left: dt.timedelta) -> str:
    """ "剩 8 分钟" while time is left, "超时 2 小时" once it is overdue."""
    if left >= dt.timedelta(0):
        return _("%(span)s left") % {"span": span_text(left, round_up=True)}
    return _("%(span)s overdue") % {"span": span_text(left, round_up=False)}


@dataclass(frozen=True)
class ClockRow:
    """One clock as the page shows it."""

    clock: SlaClock
    label: str
    text: str
    tone: str  # success | warning | danger | secondary
    overdue: bool


def clock_row(clock: SlaClock, now: dt.datetime) -> ClockRow:
    """How a clock reads now, computed from its columns (right even with no sweep)."""
    label = str(clock.get_kind_display())
    left = clock_time_left(clock, now)
    if clock.state == State.RUNNING and left is not None:
        overdue = left < dt.timedelta(0)
        warned = clock.warn_at is not None and now >= clock.warn_at
        tone = "danger" if overdue else ("warning" if warned else "success")
        return ClockRow(clock, label, time_left_text(left), tone, overdue)
    if clock.state == State.PAUSED and left is not None:
        return ClockRow(
            clock,
            label,
            _("Paused: %(left)s") % {"left": time_left_text(left)},
            "secondary",
            left < dt.timedelta(0),
        )
    if clock.state == State.STOPPED and clock.met_at is not None:
        if clock.met_at <= clock.due_at:
            return ClockRow(clock, label, _("Met on time"), "success", False)
        late = span_text(clock.met_at - clock.due_at, round_up=False)
        return ClockRow(clock, label, _("Met late (%(span)s)") % {"span": late}, "danger", False)
    return ClockRow(clock, label, _("Cancelled"), "secondary", False)


@dataclass(frozen=True)
class TimelineRow:
    """One line of the timeline as the page shows it."""

    event: TimelineEvent
    actor: str
    old: str
    new: str


def _person(user: Any, *, masked: bool) -> str:
    if user is None:
        return ""
    name = getattr(user, "name", "") or ""
    return display_surname(name) if masked else name


def _value(text: str) -> str:
    return str(_VALUE_LABELS.get(text, text))


def timeline_rows(
    events: Any, *, grievance: Grievance, roles: Roles, viewer_id: int | None
) -> list[TimelineRow]:
    """Timeline lines with readable values; residents' names masked to non-staff."""
    reporter_user_id = grievance.reporter.user_id if grievance.reporter is not None else None
    rows = []
    for event in events:
        actor = event.actor
        masked = (
            not roles.staff_view
            and actor is not None
            and actor.pk == reporter_user_id
            and actor.pk != viewer_id
        )
        name = _person(actor, masked=masked)
        if event.on_behalf_of is not None:
            resident = event.on_behalf_of.name
            shown = resident if roles.staff_view else display_surname(resident)
            name = _("%(actor)s for %(resident)s") % {"actor": name or "-", "resident": shown}
        if event.kind in _NOTE_SAYS_IT:
            rows.append(TimelineRow(event, name, "", ""))
        else:
            rows.append(TimelineRow(event, name, _value(event.old_value), _value(event.new_value)))
    return rows


def reporter_text(grievance: Grievance, roles: Roles, viewer_id: int | None) -> tuple[str, str]:
    """(name, phone) of who reported it: whole for staff, masked to everyone else."""
    if grievance.is_anonymous:
        return _("Anonymous"), ""
    name, phone = "", grievance.caller_phone
    if grievance.reporter is not None:
        name = grievance.reporter.name
        phone = phone or grievance.reporter.phone
        if grievance.reporter.user_id == viewer_id:
            return name, phone
    elif grievance.caller_name:
        name = grievance.caller_name
    if roles.staff_view:
        return name, phone
    return (display_surname(name) if name else ""), mask_phone(phone)


def location_text(grievance: Grievance) -> str:
    """Where the problem is: household, unit, building or estate, then the address."""
    # From the parts the detail read already joined (a str() of a household would walk
    # up to its estate with a query per level).
    parts = [
        part
        for part in (
            grievance.estate.name if grievance.estate is not None else "",
            grievance.building.number if grievance.building is not None else "",
            grievance.unit.number if grievance.unit is not None else "",
            grievance.household.room if grievance.household is not None else "",
        )
        if part
    ]
    parts = [" ".join(parts)] if parts else []
    if grievance.address:
        parts.append(grievance.address)
    return " · ".join(parts)


#: The handler's work, which the office may do for them (a phone call from the site).
HANDLER_WORK = frozenset({"check-in", "resolve", "plan", "wait", "resume", "extension-request"})


def split_actions(
    actions: frozenset[str], grievance: Grievance, roles: Roles
) -> tuple[frozenset[str], frozenset[str]]:
    """(the actions shown up front, those folded away under "for the handler"): the office
    sees its own desk first; the handler's work only when it does it for them."""
    if not roles.office or roles.handler:
        return actions, frozenset()
    proxy = actions & HANDLER_WORK
    if grievance.status == Status.ACCEPTED:
        proxy -= {"resolve"}  # the office answering a matter itself: its own action
    return actions - proxy, proxy


def _detail(request: HttpRequest, pk: int) -> Grievance:
    try:
        return grievance_detail(user=request.user, pk=pk)
    except Grievance.DoesNotExist:
        raise Http404 from None


@login_required
def grievance_page(request: HttpRequest, pk: int) -> HttpResponse:
    grievance = _detail(request, pk)
    now = timezone.now()
    state = grievance_page_state(user=request.user, grievance=grievance)
    clocks = [clock_row(clock, now) for clock in state.clocks]
    final = grievance.status in workflow.FINAL_STATUSES
    if request.GET.get("part") == "clocks":
        # The htmx refresh of the clocks card: the time left moves on without a reload.
        return render(
            request,
            "grievances/detail/_clocks.html",
            {"g": grievance, "clocks": clocks, "now": now, "final": final},
        )
    actions = state.actions
    main, proxy = split_actions(actions, grievance, state.roles)
    context: dict[str, Any] = {
        "g": grievance,
        "now": now,
        "state": state,
        "roles": state.roles,
        "actions": actions,
        "main": main,
        "proxy": proxy,
        "clocks": clocks,
        "final": final,
        "live_clocks": [row for row in clocks if row.clock.state in (State.RUNNING, State.PAUSED)],
        "badge": STATUS_BADGE.get(Status(grievance.status), "text-bg-secondary"),
        "location": location_text(grievance),
        "tiers": Tier.choices,
        "today": timezone.localdate(now).isoformat(),
    }
    context["reporter_name"], context["reporter_phone"] = reporter_text(
        grievance, state.roles, request.user.pk
    )
    context["timeline"] = timeline_rows(
        grievance_timeline(user=request.user, grievance=grievance),
        grievance=grievance,
        roles=state.roles,
        viewer_id=request.user.pk,
    )
    context["photos"] = list(grievance_photos(user=request.user, grievance=grievance))
    if actions & {"dispatch", "dispatch-transfer"}:
        organizations = dispatch_organizations(grievance=grievance)
        context["organizations"] = organizations
        context["people"] = dispatch_people(grievance=grievance, organizations=organizations)
        default = grievance_default_receiver(grievance=grievance) if "dispatch" in actions else None
        context["default_receiver"] = default.pk if default is not None else None
    if "cost-share" in actions:
        context["share_households"] = list(cost_share_households(grievance=grievance))
    return render(request, "grievances/detail/page.html", context)
