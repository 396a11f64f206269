"""The weighing point's phone page (垃圾分类称重): pick a resident, weigh, show a slip."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from community.models import Resident
from credit.models import GarbageWeighing, ScoringRule
from credit.selectors.boards import display_building
from credit.selectors.garbage import (
    weighing_community_ids,
    weighing_resident,
    weighing_resident_search,
    weighing_rules,
    weighing_slip,
)
from credit.services.garbage import MAX_KG, garbage_weighing_record


class WeighingForm(forms.Form):
    """One optional weight per per-kg rule, and the key that makes a double submit safe."""

    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, rules: list[ScoringRule], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules = rules
        for rule in rules:
            self.fields[f"kg_{rule.pk}"] = forms.DecimalField(
                label=rule.name,
                required=False,
                min_value=Decimal("0"),
                max_value=MAX_KG,
                decimal_places=1,
                max_digits=5,
                error_messages={
                    "max_value": gettext_lazy("At most %(limit_value)s kg."),
                    "min_value": gettext_lazy("Enter a weight above 0."),
                },
            )

    def rule_fields(self) -> list[tuple[ScoringRule, Any]]:
        return [(rule, self[f"kg_{rule.pk}"]) for rule in self.rules]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.lines():
            raise forms.ValidationError(_("Enter the weight of at least one category."))
        return data

    def lines(self) -> list[tuple[ScoringRule, Decimal]]:
        return [
            (rule, kg)
            for rule in self.rules
            if (kg := self.cleaned_data.get(f"kg_{rule.pk}")) is not None and kg > 0
        ]


def _require_weigher(request: HttpRequest) -> None:
    if not weighing_community_ids(request.user):
        raise Http404


def _resident_label(resident: Resident) -> str:
    household = resident.household
    building = household.unit.building
    return f"{building.estate.name} {display_building(building.number)} {household.unit.number} {household.room}"


@login_required
@require_http_methods(["GET", "POST"])
def garbage_weigh(request: HttpRequest) -> HttpResponse:
    """Search a resident, or weigh for the one chosen (?resident=<id>, e.g. from a QR)."""
    _require_weigher(request)
    resident_id = request.GET.get("resident") or request.POST.get("resident")
    if not resident_id:
        term = request.GET.get("q", "")
        results = weighing_resident_search(user=request.user, term=term)
        return render(
            request,
            "credit/garbage/search.html",
            {"term": term, "results": [(r, _resident_label(r)) for r in results]},
        )
    try:
        resident = weighing_resident(user=request.user, pk=int(resident_id))
    except (ValueError, Resident.DoesNotExist):
        raise Http404 from None
    community_id = resident.household.unit.building.estate.community_id
    rules = weighing_rules(user=request.user, community_id=community_id)
    form = WeighingForm(request.POST or None, rules=rules, initial={"key": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        try:
            weighing = garbage_weighing_record(
                actor=request.user,
                resident=resident,
                lines=form.lines(),
                key=str(form.cleaned_data["key"]),
                now=timezone.now(),
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            return redirect("credit:garbage-slip", pk=weighing.pk)
    return render(
        request,
        "credit/garbage/weigh.html",
        {"resident": resident, "address": _resident_label(resident), "form": form},
    )


@login_required
def garbage_slip(request: HttpRequest, pk: int) -> HttpResponse:
    """The slip shown to the resident after weighing."""
    try:
        slip = weighing_slip(user=request.user, pk=pk)
    except GarbageWeighing.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "credit/garbage/slip.html",
        {"slip": slip, "can_weigh": bool(weighing_community_ids(request.user))},
    )
