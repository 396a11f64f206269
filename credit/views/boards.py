"""Red and grey list pages (红灰榜): publish, read, print, and a resident's privacy choice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from community.models import Community
from credit.models import BoardSnapshot
from credit.selectors.boards import (
    board_get,
    board_list,
    board_period_label,
    member_community_ids,
    own_resident,
    period_label,
    publish_areas,
    publisher_community_ids,
    recent_periods,
    red_list_opted_out,
)
from credit.services.boards import board_publish, red_list_opt_out


def _board(request: HttpRequest, pk: int) -> BoardSnapshot:
    try:
        board = board_get(user=request.user, pk=pk)
    except BoardSnapshot.DoesNotExist:
        raise Http404 from None
    board.period_label = board_period_label(board)  # type: ignore[attr-defined]
    return board


@login_required
def board_index(request: HttpRequest) -> HttpResponse:
    """Published boards of the user's communities."""
    if not member_community_ids(request.user):
        raise Http404
    boards = list(board_list(user=request.user)[:100])
    for board in boards:
        board.period_label = board_period_label(board)  # type: ignore[attr-defined]
    resident = own_resident(user=request.user)
    return render(
        request,
        "credit/boards/list.html",
        {"boards": boards, "can_publish": _can_publish(request), "is_resident": resident},
    )


def _can_publish(request: HttpRequest) -> bool:
    return bool(publisher_community_ids(request.user))


@login_required
def board_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "credit/boards/detail.html", {"board": _board(request, pk)})


@login_required
def board_poster(request: HttpRequest, pk: int) -> HttpResponse:
    """The A4 poster for the noticeboard: print it from the browser."""
    return render(request, "credit/boards/poster.html", {"board": _board(request, pk)})


class PublishForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("Period"))
    area = forms.ChoiceField(label=gettext_lazy("Area"))
    top_n = forms.IntegerField(
        label=gettext_lazy("Places on the red list"), min_value=1, max_value=100, initial=10
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        period_field: Any = self.fields["period"]
        period_field.choices = [
            (p.value, period_label(p.period, p.start)) for p in recent_periods()
        ]
        self.areas = {a.value: a for a in publish_areas(user=user)}
        area_field: Any = self.fields["area"]
        area_field.choices = [(a.value, a.label) for a in self.areas.values()]

    def publish_args(self) -> dict[str, Any]:
        period, start = self.cleaned_data["period"].split(":")
        kind, area_id = self.cleaned_data["area"].split(":")
        return {
            "period": period,
            "period_start": dt.date.fromisoformat(start),
            "area_kind": kind,
            "area_id": int(area_id),
            "top_n": self.cleaned_data["top_n"],
            "community": Community.objects.get(
                pk=self.areas[self.cleaned_data["area"]].community_id
            ),
        }


@login_required
@require_http_methods(["GET", "POST"])
def board_publish_page(request: HttpRequest) -> HttpResponse:
    """Staff publish a period's list for an area; it is frozen once published."""
    if not _can_publish(request):
        raise Http404
    form = PublishForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            board = board_publish(actor=request.user, now=timezone.now(), **form.publish_args())
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("The red and grey list was published."))
            return redirect("credit:board-detail", pk=board.pk)
    return render(request, "credit/boards/publish.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def board_privacy(request: HttpRequest) -> HttpResponse:
    """A resident chooses whether their surname may appear on the red list."""
    resident = own_resident(user=request.user)
    if resident is None:
        raise Http404
    if request.method == "POST":
        opted_out = red_list_opt_out(
            resident_user=request.user, opt_out=request.POST.get("opt_out") == "1"
        )
        messages.success(
            request,
            _("You will not appear on the red list.")
            if opted_out
            else _("You may appear on the red list again."),
        )
        return redirect("credit:board-privacy")
    return render(
        request,
        "credit/boards/privacy.html",
        {"resident": resident, "opted_out": red_list_opted_out(resident=resident)},
    )
