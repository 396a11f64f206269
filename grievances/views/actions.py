"""The actions of the grievance page: POST /grievances/<pk>/<action>/, one service call each.

Every action reads its grievance through the scoped selector first (outside the scope:
404), parses its form, makes one service call and redirects back (PRG) with a message.
The services decide who may do what and when: a domain error (not allowed now, not your
work order, a missing reason) comes back as a message on the page, never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from community.models import Household, Organization
from grievances import services
from grievances.models import (
    CostShareLine,
    DeadlineExtension,
    Dispatch,
    Grievance,
    SlaClock,
)
from grievances.selectors.f2_detail import (
    cost_share_households,
    dispatch_organizations,
    dispatch_people,
    steward_find,
)
from grievances.selectors.grievances import grievance_detail

Handler = Callable[[HttpRequest, Grievance, dt.datetime], str]
ACTIONS: dict[str, Handler] = {}


def action(name: str) -> Callable[[Handler], Handler]:
    """Register the handler of /grievances/<pk>/<name>/."""

    def register(handler: Handler) -> Handler:
        ACTIONS[name] = handler
        return handler

    return register


def _text(request: HttpRequest, name: str) -> str:
    return (request.POST.get(name) or "").strip()


def _int(request: HttpRequest, name: str) -> int | None:
    value = _text(request, name)
    if not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def _dispatch_of(request: HttpRequest, grievance: Grievance) -> Dispatch:
    """The dispatch the form was drawn for (it may have been answered since: the service
    says so); one of another grievance is 404."""
    pk = _int(request, "dispatch")
    if pk is None:
        raise Http404
    try:
        return Dispatch.objects.select_related("organization", "assignee").get(
            pk=pk, grievance=grievance
        )
    except Dispatch.DoesNotExist:
        raise Http404 from None


def _receiver(
    request: HttpRequest, grievance: Grievance
) -> tuple[Organization | None, User | None]:
    """The "to" field: "org:<id>" or "user:<id>", one of the choices the page offered."""
    kind, _sep, pk = _text(request, "to").partition(":")
    if kind == "org" and pk.isdigit():
        for org in dispatch_organizations(grievance=grievance):
            if org.pk == int(pk):
                return org, None
    elif kind == "user" and pk.isdigit():
        organizations = dispatch_organizations(grievance=grievance)
        for person in dispatch_people(grievance=grievance, organizations=organizations):
            if person.pk == int(pk):
                return None, person
    raise ValidationError(_("Choose who receives the work order from the list."), code="to")


def _tier(request: HttpRequest) -> str | None:
    return _text(request, "tier") or None


def _photos(request: HttpRequest, name: str = "photos") -> list[Any]:
    return [f for f in request.FILES.getlist(name) if f.size]


# --- the office ------------------------------------------------------------------------------


@action("accept")
def accept(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    services.grievance_accept(grievance=grievance, actor=request.user, now=now, tier=_tier(request))
    return _("Accepted.")


@action("reject")
def reject(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    services.grievance_reject(
        grievance=grievance, actor=request.user, reason=_text(request, "reason"), now=now
    )
    return _("Rejected. The reporter sees the reason.")


@action("dispatch")
def dispatch(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    organization, assignee = _receiver(request, grievance)
    sent = services.grievance_dispatch(
        grievance=grievance,
        actor=request.user,
        now=now,
        organization=organization,
        assignee=assignee,
        note=_text(request, "note"),
    )
    return _("Dispatched to %(receiver)s.") % {"receiver": sent.organization or sent.assignee}


@action("dispatch-withdraw")
def dispatch_withdraw(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    services.dispatch_withdraw(
        dispatch=_dispatch_of(request, grievance),
        actor=request.user,
        reason=_text(request, "reason"),
        now=now,
    )
    return _("The work order was withdrawn.")


@action("merge")
def merge(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    number = _text(request, "into").lstrip("#").strip()
    try:
        into = grievance_detail(user=request.user, pk=int(number) if number.isdigit() else 0)
    except Grievance.DoesNotExist:
        raise ValidationError(
            _("There is no grievance #%(number)s you can see.") % {"number": number or "?"},
            code="merge_into",
        ) from None
    services.grievance_merge(
        grievance=grievance, into=into, actor=request.user, now=now, note=_text(request, "note")
    )
    return _("Merged into #%(pk)s.") % {"pk": into.pk}


@action("extension-decide")
def extension_decide(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    pk = _int(request, "extension")
    try:
        extension = DeadlineExtension.objects.get(pk=pk or 0, clock__grievance=grievance)
    except DeadlineExtension.DoesNotExist:
        raise Http404 from None
    approve = _text(request, "decision") == "approve"
    services.deadline_extension_decide(
        extension=extension,
        actor=request.user,
        approve=approve,
        now=now,
        note=_text(request, "note"),
    )
    return _("More time approved.") if approve else _("More time refused.")


@action("steward")
def steward(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    text = _text(request, "steward")
    person = None
    if text:
        found = steward_find(grievance=grievance, text=text)
        if not found:
            raise ValidationError(
                _("No resident of this community is called or has the phone “%(text)s”.")
                % {"text": text},
                code="steward",
            )
        if len(found) > 1:
            raise ValidationError(
                _("Several residents are called “%(text)s”: give the phone number.")
                % {"text": text},
                code="steward",
            )
        person = found[0]
    services.grievance_steward_set(grievance=grievance, steward=person, actor=request.user, now=now)
    if person is None:
        return _("No steward any more.")
    return _("Steward: %(name)s.") % {"name": person.name}


@action("cost-share")
def cost_share(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    offered = {h.pk for h in cost_share_households(grievance=grievance)}
    shares: dict[Household | int, Any] = {}
    for key in request.POST:
        value = (request.POST.get(key) or "").strip()
        if not key.startswith("share-") or not value:
            continue
        household = key.removeprefix("share-")
        if not household.isdigit() or int(household) not in offered:
            raise ValidationError(_("Choose households from the list."), code="shares_household")
        shares[int(household)] = value
    services.cost_share_create(
        grievance=grievance,
        description=_text(request, "description"),
        total=_text(request, "total"),
        shares=shares,
        actor=request.user,
        now=now,
    )
    return _("The cost is shared among %(n)s households.") % {"n": len(shares)}


@action("cost-share-pay")
def cost_share_pay(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    try:
        line = CostShareLine.objects.select_related("household").get(
            pk=_int(request, "line") or 0, cost_share__grievance=grievance
        )
    except CostShareLine.DoesNotExist:
        raise Http404 from None
    services.cost_share_line_pay(line=line, actor=request.user, now=now)
    return _("Payment recorded: %(room)s, %(amount)s yuan.") % {
        "room": line.household.room,
        "amount": line.amount,
    }


# --- the receiver ---------------------------------------------------------------------------


@action("dispatch-accept")
def dispatch_accept(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    services.dispatch_accept(
        dispatch=_dispatch_of(request, grievance), actor=request.user, now=now, tier=_tier(request)
    )
    return _("You took the work order: the clock runs.")


@action("dispatch-decline")
def dispatch_decline(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    services.dispatch_decline(
        dispatch=_dispatch_of(request, grievance),
        actor=request.user,
        reason=_text(request, "reason"),
        now=now,
    )
    return _("Declined: the work order went back to the community office.")


@action("dispatch-transfer")
def dispatch_transfer(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    organization, assignee = _receiver(request, grievance)
    new = services.dispatch_transfer(
        dispatch=_dispatch_of(request, grievance),
        actor=request.user,
        reason=_text(request, "reason"),
        now=now,
        organization=organization,
        assignee=assignee,
    )
    return _("Transferred to %(receiver)s.") % {"receiver": new.organization or new.assignee}


# --- the handler ----------------------------------------------------------------------------


@action("check-in")
def check_in(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    photos = _photos(request, "photo")
    services.grievance_check_in(
        grievance=grievance,
        actor=request.user,
        now=now,
        latitude=_text(request, "latitude"),
        longitude=_text(request, "longitude"),
        photo=photos[0] if photos else None,
        note=_text(request, "note"),
    )
    return _("Checked in on site.")


@action("progress")
def progress(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    public = _text(request, "visibility") == "public"
    services.grievance_progress_add(
        grievance=grievance,
        actor=request.user,
        note=_text(request, "note"),
        now=now,
        is_public=public,
        photos=_photos(request),
    )
    return _("Update posted.") if public else _("Internal note added.")


@action("plan")
def plan(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    try:
        due = dt.date.fromisoformat(_text(request, "plan_due"))
    except ValueError:
        raise ValidationError(
            _("The plan needs a completion date from today on."), code="plan_due"
        ) from None
    services.grievance_plan_submit(
        grievance=grievance, actor=request.user, plan=_text(request, "plan"), plan_due=due, now=now
    )
    return _("Plan submitted.")


@action("wait")
def wait(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    services.grievance_wait(
        grievance=grievance, actor=request.user, reason=_text(request, "reason"), now=now
    )
    return _("Waiting: the clocks are paused.")


@action("resume")
def resume(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    services.grievance_resume(
        grievance=grievance, actor=request.user, now=now, note=_text(request, "note")
    )
    return _("Resumed: the clocks run again.")


@action("resolve")
def resolve(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    services.grievance_resolve(
        grievance=grievance,
        actor=request.user,
        note=_text(request, "note"),
        now=now,
        photos=_photos(request),
    )
    return _("Resolved. The reporter is asked to confirm.")


@action("extension-request")
def extension_request(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    try:
        clock = SlaClock.objects.get(pk=_int(request, "clock") or 0, grievance=grievance)
    except SlaClock.DoesNotExist:
        raise Http404 from None
    amount = _int(request, "amount")
    unit = _text(request, "unit")
    if not amount or amount > 100_000:
        raise ValidationError(_("Ask for some more minutes or days."), code="extension_time")
    services.deadline_extension_request(
        clock=clock,
        actor=request.user,
        reason=_text(request, "reason"),
        now=now,
        extra_minutes=amount * 60 if unit == "hours" else None,
        extra_days=amount if unit == "days" else None,
    )
    return _("More time requested: the community office decides.")


# --- the reporter ---------------------------------------------------------------------------


@action("rate")
def rate(request: HttpRequest, grievance: Grievance, now: dt.datetime) -> str:
    solved = _text(request, "solved") == "1"
    stars = _int(request, "stars")
    services.grievance_rate(
        grievance=grievance,
        actor=request.user,
        solved=solved,
        stars=stars if stars is not None else 0,
        now=now,
        comment=_text(request, "comment"),
    )
    if solved:
        return _("Thank you: the grievance is closed.")
    return _("Sorry it is not solved: the grievance is reopened and sent back.")


# --- the entry point ------------------------------------------------------------------------


def _message(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or _("You may not do this.")


def _back(request: HttpRequest, grievance: Grievance) -> HttpResponseRedirect:
    """Back to where the form was (the queue's inline accept), else the grievance page."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(reverse("grievances:detail", args=[grievance.pk]))


@login_required
@require_POST
def grievance_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    try:
        grievance = grievance_detail(user=request.user, pk=pk)
    except Grievance.DoesNotExist:
        raise Http404 from None
    try:
        done = handler(request, grievance, timezone.now())
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, done)
    return _back(request, grievance)
