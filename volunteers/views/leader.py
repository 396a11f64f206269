"""The leader's (or staff's) page of an activity: the roster with check-in state, hours
to correct and confirm, no-shows to record, the QR code and the printable sign-in sheet."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.phone import mask_phone
from volunteers.models import Activity, Attendance, SignUp
from volunteers.selectors import pages as selectors
from volunteers.services import (
    attendance_check_in,
    attendance_check_out,
    attendance_confirm,
    attendance_correct,
    attendance_no_show,
)
from volunteers.views.checkin import checkin_path, qr_svg
from volunteers.views.common import refusal


def _managed(request: HttpRequest, pk: int) -> Activity:
    activity = selectors.managed_activity(user=request.user, pk=pk)
    if activity is None:
        raise Http404
    return activity


def _qr_context(request: HttpRequest, activity: Activity) -> dict[str, object]:
    link = request.build_absolute_uri(checkin_path(activity.pk))
    return {"activity": activity, "checkin_link": link, "qr": qr_svg(link)}


@login_required
def activity_page(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _managed(request, pk)
    roster = list(selectors.activity_roster(user=request.user, activity=activity))
    rows = [(s, getattr(s, "attendance", None)) for s in roster]
    return render(
        request,
        "volunteers/leader/activity.html",
        {**_qr_context(request, activity), "rows": rows, "now": timezone.now()},
    )


@login_required
def sign_in_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _managed(request, pk)
    roster = [
        (s, mask_phone(s.user.phone))
        for s in selectors.activity_roster(user=request.user, activity=activity)
        if s.status == s.Status.SIGNED_UP
    ]
    return render(
        request, "volunteers/leader/sheet.html", {**_qr_context(request, activity), "rows": roster}
    )


def _confirm(request: HttpRequest, activity: Activity) -> str:
    attendance = _attendance(request, activity)
    attendance_confirm(attendance=attendance, actor=request.user, now=timezone.now())
    return _("Hours confirmed.")


def _correct(request: HttpRequest, activity: Activity) -> str:
    attendance = _attendance(request, activity)
    try:
        hours = Decimal(request.POST.get("hours", "").strip())
    except InvalidOperation:
        raise ValidationError(_("Enter the hours as a number, e.g. 1.5.")) from None
    if not hours.is_finite() or hours > Decimal(999):
        raise ValidationError(_("Enter the hours as a number, e.g. 1.5."))
    attendance_correct(attendance=attendance, hours=hours, actor=request.user, now=timezone.now())
    return _("Hours corrected.")


def _signup(request: HttpRequest, activity: Activity) -> SignUp:
    signup = selectors.managed_signup(
        user=request.user, activity=activity, pk=_int(request, "signup")
    )
    if signup is None:
        raise Http404
    return signup


def _no_show(request: HttpRequest, activity: Activity) -> str:
    signup = _signup(request, activity)
    attendance_no_show(signup=signup, actor=request.user, now=timezone.now())
    return _("No-show recorded.")


def _check_in(request: HttpRequest, activity: Activity) -> str:
    signup = _signup(request, activity)
    attendance_check_in(activity=activity, user=signup.user, now=timezone.now(), actor=request.user)
    return _("Checked in.")


def _check_out(request: HttpRequest, activity: Activity) -> str:
    signup = _signup(request, activity)
    attendance_check_out(
        activity=activity, user=signup.user, now=timezone.now(), actor=request.user
    )
    return _("Checked out.")


ACTIONS = {
    "confirm": _confirm,
    "correct": _correct,
    "no-show": _no_show,
    "check-in": _check_in,
    "check-out": _check_out,
}


def _int(request: HttpRequest, name: str) -> int:
    try:
        return int(request.POST.get(name, ""))
    except ValueError:
        raise Http404 from None


def _attendance(request: HttpRequest, activity: Activity) -> Attendance:
    attendance = selectors.managed_attendance(
        user=request.user, activity=activity, pk=_int(request, "attendance")
    )
    if attendance is None:
        raise Http404
    return attendance


@login_required
@require_POST
def activity_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    activity = _managed(request, pk)
    try:
        done = handler(request, activity)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(request, done)
    return redirect("volunteers:activity", activity.pk)
