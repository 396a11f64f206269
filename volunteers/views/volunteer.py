"""The volunteer's phone pages: upcoming activities with sign-up and cancel, my shifts,
my hours, and the check-in page the activity's QR code opens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from volunteers.models import Activity, SignUp
from volunteers.selectors import pages as selectors
from volunteers.selectors import user_signups
from volunteers.services import (
    activity_signup,
    attendance_check_in,
    attendance_check_out,
    signup_cancel,
)
from volunteers.views.checkin import checkin_token_valid
from volunteers.views.common import refusal

HOME_UPCOMING = 15  # activities open for sign-up on the phone page
HOME_HOURS = 5  # latest attendances; the hours page has them all


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    managed = list(selectors.managed_activities(user=user, now=now))
    if not selectors.volunteer_community_ids(user=user) and not managed:
        raise Http404
    # The next few on a phone, all of them (as many as the list holds) on request; one
    # more than shown tells whether there are more.
    shown = selectors.UPCOMING_LIMIT if request.GET.get("all") else HOME_UPCOMING
    upcoming = list(selectors.upcoming_activities(user=user, now=now, limit=shown + 1))
    return render(
        request,
        "volunteers/home.html",
        {
            "upcoming": upcoming[:shown],
            "more_upcoming": len(upcoming) > shown,
            "shifts": list(user_signups(user=user).filter(activity__ends_at__gte=now)),
            "attendances": list(selectors.user_attendances(user=user, limit=HOME_HOURS)),
            "confirmed_hours": selectors.user_confirmed_hours(user=user),
            "managed": managed,
            "now": now,
        },
    )


def _activity(request: HttpRequest, pk: int) -> Activity:
    activity = selectors.volunteer_activity(user=request.user, pk=pk)
    if activity is None:
        raise Http404
    return activity


@login_required
@require_POST
def signup(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk)
    try:
        made = activity_signup(activity=activity, user=request.user, now=timezone.now())
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        if made.status == SignUp.Status.WAITING:
            messages.info(
                request,
                _("The activity is full: you are number %(position)s on the waiting list.")
                % {"position": made.position},
            )
        else:
            messages.success(request, _("You are signed up for %(title)s.") % {"title": activity})
    return redirect("volunteers:home")


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    mine = selectors.own_signup(user=request.user, pk=pk)
    if mine is None:
        raise Http404
    try:
        signup_cancel(signup=mine, actor=request.user, now=timezone.now())
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(request, _("Your sign-up is cancelled."))
    return redirect("volunteers:home")


def _checkin_activity(request: HttpRequest, pk: int, token: str) -> Activity:
    if not checkin_token_valid(pk, token):
        raise Http404
    return _activity(request, pk)


@login_required
def check_in_page(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    activity = _checkin_activity(request, pk, token)
    signed_up = selectors.holds_a_place(user=request.user, activity=activity)
    return render(
        request,
        "volunteers/check_in.html",
        {
            "activity": activity,
            "signed_up": signed_up,
            "attendance": selectors.own_attendance(user=request.user, activity=activity),
            "token": token,
        },
    )


@login_required
@require_POST
def check_in(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    activity = _checkin_activity(request, pk, token)
    out = request.POST.get("direction") == "out"
    now = timezone.now()
    try:
        if out:
            attendance = attendance_check_out(activity=activity, user=request.user, now=now)
        else:
            attendance_check_in(activity=activity, user=request.user, now=now)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        if out:
            messages.success(
                request,
                _("Checked out: %(hours)s hours, waiting for the leader to confirm.")
                % {"hours": attendance.hours},
            )
        else:
            messages.success(request, _("Checked in. Thank you for coming!"))
    return redirect("volunteers:check-in", pk, token)
