"""Points pages: the resident's "my points" (phone) and the office workbench (desktop).

Residents see only their own account and deductions; the workbench is for community
staff and admins (street supervisors read it). Anyone else gets 404 (DESIGN §3).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from community.models import Resident
from community.registry_export import content_disposition
from credit import exports
from credit.models import Appeal, PointsRequest, ScoringRule
from credit.selectors import history as history_selectors
from credit.selectors import requests as selectors
from credit.selectors import supermarket as shop_selectors
from credit.services import requests as services
from credit.services.ledger import points_amount

logger = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HISTORY_PAGE_SIZE = 30
PICKUPS_SHOWN = 50
#: The longest range one redemptions export covers (a year, for the annual report).
EXPORT_MAX_DAYS = 366


# --- forms ------------------------------------------------------------------------------


class AppealForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Why do you disagree?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RequestForm(forms.Form):
    resident = forms.IntegerField(label=gettext_lazy("Resident"), widget=forms.HiddenInput)
    rule = forms.TypedChoiceField(label=gettext_lazy("Rule"), coerce=int)
    quantity = forms.DecimalField(
        label=gettext_lazy("Quantity"), min_value=0, max_digits=10, decimal_places=2, initial=1
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (shown to the resident)"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    evidence_note = forms.CharField(
        label=gettext_lazy("Evidence"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Needed for rules that ask for a photo or a staff note."),
    )

    def __init__(self, *args: Any, rules: list[ScoringRule], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (r.pk, f"{r.name} ({r.points:+d}/{r.get_unit_display()})") for r in rules
        ]


class DecisionNoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class AppealDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("uphold", gettext_lazy("Uphold the deduction")),
            ("cancel", gettext_lazy("Cancel the deduction")),
        ]
    )
    reasons = forms.CharField(label=gettext_lazy("Reasons"), max_length=2000)


class RedemptionsExportForm(forms.Form):
    """The date range of a redemptions export (兑换台账); blank: this month so far."""

    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": gettext_lazy("Give the start date as YYYY-MM-DD.")},
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": gettext_lazy("Give the end date as YYYY-MM-DD.")},
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        start = data.get("start") or self.today.replace(day=1)
        end = data.get("end") or self.today
        if start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        if (end - start).days >= EXPORT_MAX_DAYS:
            raise forms.ValidationError(
                _("Export at most %(days)s days at a time.") % {"days": EXPORT_MAX_DAYS}
            )
        data["start"], data["end"] = start, end
        return data


def _error_text(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do that.")


# --- the resident's pages ---------------------------------------------------------------


def _before(request: HttpRequest) -> int | None:
    raw = request.GET.get("before", "")
    return int(raw) if raw.isdigit() else None


@login_required
@require_GET
def points_home(request: HttpRequest) -> HttpResponse:
    """My points (我的积分): balance, deductions with their appeal window, history."""
    if history_selectors.my_resident(user=request.user) is None:
        raise Http404
    account = history_selectors.my_account(user=request.user)
    deductions = list(selectors.my_deductions(user=request.user))
    page = history_selectors.history_page(
        entries=history_selectors.my_history(user=request.user),
        before=_before(request),
        size=HISTORY_PAGE_SIZE,
    )
    now = timezone.now()
    return render(
        request,
        "credit/points/home.html",
        {
            "account": account,
            "balance": account.balance if account is not None else 0,
            "deductions": [
                {
                    "request": d,
                    "points": points_amount(d.rule, d.quantity),
                    "can_appeal": d.status == PointsRequest.Status.NOTIFIED
                    and d.appeal_deadline is not None
                    and now < d.appeal_deadline,
                    "appeal": d.appeal if _has_appeal(d) else None,
                }
                for d in deductions
            ],
            "page": page,
            "appeal_form": AppealForm(),
        },
    )


def _has_appeal(request: PointsRequest) -> bool:
    try:
        request.appeal  # noqa: B018 (joined by the selector)
    except Appeal.DoesNotExist:
        return False
    return True


@login_required
@require_POST
def points_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    """Appeal one of my notified deductions."""
    try:
        deduction = selectors.my_deduction_get(user=request.user, pk=pk)
    except PointsRequest.DoesNotExist:
        raise Http404 from None
    form = AppealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write why you disagree."))
        return redirect("credit:points-home")
    try:
        services.appeal_submit(
            request=deduction,
            resident_user=request.user,
            text=form.cleaned_data["text"],
            now=timezone.now(),
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Your appeal was sent to the community office."))
    return redirect("credit:points-home")


# --- the office workbench ---------------------------------------------------------------


def _require_office(request: HttpRequest) -> None:
    if not selectors.can_view_points_office(request.user):
        raise Http404


def _workbench(
    request: HttpRequest, *, form: RequestForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    now = timezone.now()
    today = shop_selectors.local(now).date()
    rules = selectors.request_rules(user=user)
    search = request.GET.get("q", "").strip()[:50]
    if form is None:
        form = RequestForm(rules=rules, initial={"quantity": 1})
    chosen = None
    resident_id = form["resident"].value()
    if resident_id and str(resident_id).isdigit():
        try:
            chosen = selectors.request_resident_get(user=user, pk=int(resident_id))
        except Resident.DoesNotExist:
            chosen = None
    return render(
        request,
        "credit/staff/workbench.html",
        {
            "form": form,
            "search": search,
            "matches": selectors.request_residents(user=user, search=search),
            "chosen": chosen,
            "pending": list(selectors.workbench_pending_requests(user=user)[:100]),
            "appeals": list(selectors.workbench_open_appeals(user=user)[:100]),
            "notified": list(selectors.workbench_notified_deductions(user=user)[:50]),
            "recent": list(selectors.workbench_recent_decisions(user=user)[:20]),
            "pickups": list(shop_selectors.pickups_today(user=user, now=now)[:PICKUPS_SHOWN]),
            "month_start": today.replace(day=1),
            "today": today,
        },
        status=status,
    )


@login_required
@require_GET
def staff_workbench(request: HttpRequest) -> HttpResponse:
    """The points workbench (积分工作台): ask, approve, decide appeals, export."""
    _require_office(request)
    return _workbench(request)


@login_required
@require_GET
def staff_resident_search(request: HttpRequest) -> HttpResponse:
    """Residents matching a name or phone (the htmx part of the request form)."""
    _require_office(request)
    search = request.GET.get("q", "").strip()[:50]
    return render(
        request,
        "credit/staff/_resident_matches.html",
        {
            "matches": selectors.request_residents(user=request.user, search=search),
            "search": search,
        },
    )


@login_required
@require_POST
def staff_request_create(request: HttpRequest) -> HttpResponse:
    """Ask for a manual award or deduction; another person decides it."""
    _require_office(request)
    rules = selectors.request_rules(user=request.user)
    form = RequestForm(request.POST, rules=rules)
    if not form.is_valid():
        return _workbench(request, form=form, status=400)
    try:
        resident = selectors.request_resident_get(
            user=request.user, pk=form.cleaned_data["resident"]
        )
        rule = selectors.request_rule_get(user=request.user, pk=form.cleaned_data["rule"])
    except (Resident.DoesNotExist, ScoringRule.DoesNotExist):
        form.add_error(None, _("Choose a resident and a rule from the lists."))
        return _workbench(request, form=form, status=400)
    try:
        services.points_request_create(
            actor=request.user,
            resident=resident,
            rule=rule,
            quantity=form.cleaned_data["quantity"],
            reason=form.cleaned_data["reason"],
            evidence_note=form.cleaned_data["evidence_note"],
            now=timezone.now(),
        )
    except (ValidationError, PermissionDenied) as exc:
        form.add_error(None, _error_text(exc))
        return _workbench(request, form=form, status=400)
    messages.success(request, _("Request recorded. Another member of staff has to approve it."))
    return redirect("credit:points-staff")


def _office_request(request: HttpRequest, pk: int) -> PointsRequest:
    _require_office(request)
    try:
        return selectors.request_get(user=request.user, pk=pk)
    except PointsRequest.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def staff_request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    points_request = _office_request(request, pk)
    form = DecisionNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.points_request_approve(
            request=points_request, actor=request.user, now=timezone.now(), note=note
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Approved."))
    return redirect("credit:points-staff")


@login_required
@require_POST
def staff_request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    points_request = _office_request(request, pk)
    form = DecisionNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.points_request_reject(
            request=points_request, actor=request.user, now=timezone.now(), note=note
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Rejected."))
    return redirect("credit:points-staff")


@login_required
@require_POST
def staff_appeal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    _require_office(request)
    try:
        appeal = selectors.appeal_get(user=request.user, pk=pk)
    except Appeal.DoesNotExist:
        raise Http404 from None
    form = AppealDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose uphold or cancel and give the reasons."))
        return redirect("credit:points-staff")
    try:
        services.appeal_decide(
            appeal=appeal,
            actor=request.user,
            now=timezone.now(),
            uphold=form.cleaned_data["decision"] == "uphold",
            reasons=form.cleaned_data["reasons"],
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Appeal decided."))
    return redirect("credit:points-staff")


@login_required
@require_GET
def staff_export_xlsx(request: HttpRequest) -> HttpResponseBase:
    """Points per resident of my communities as a masked workbook (积分台账)."""
    _require_office(request)
    residents = selectors.points_per_resident(user=request.user)
    # Rows stream into a temporary file (write-only mode), which is streamed back.
    target = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    rows = exports.points_workbook_write(
        residents=residents.iterator(chunk_size=1000), target=target
    )
    target.seek(0)
    logger.info("points export by user %s: %s rows", request.user.pk, rows)
    today = timezone.localdate()
    response = FileResponse(target, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(
        exports.export_file_name(today), f"points-{today:%Y%m%d}.xlsx"
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def staff_redemptions_xlsx(request: HttpRequest) -> HttpResponseBase:
    """Redemptions of my communities in a date range as a masked workbook (兑换台账)."""
    _require_office(request)
    today = shop_selectors.local(timezone.now()).date()
    form = RedemptionsExportForm(request.GET, today=today)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _workbench(request, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    redemptions = shop_selectors.redemptions_ledger(user=request.user, start=start, end=end)
    target = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    rows = exports.redemptions_workbook_write(
        redemptions=redemptions.iterator(chunk_size=1000), target=target
    )
    target.seek(0)
    logger.info("redemptions export by user %s: %s rows", request.user.pk, rows)
    response = FileResponse(target, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(
        exports.redemptions_file_name(start, end), f"redemptions-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
    )
    response["Cache-Control"] = "no-store"
    return response
