"""Forms of the survey, scorecard and black-list pages: they parse input; the services
decide (their refusals come back on the form or as a message)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from community.models import Estate, Organization
from property_mgmt.models.surveys import AREAS

STARS = [(str(n), str(n)) for n in range(1, 6)]
AREA_LABELS = {
    "cleaning": _("Cleaning"),
    "security": _("Security"),
    "repairs": _("Repairs"),
    "green_spaces": _("Green spaces"),
    "parking": _("Parking"),
}


class AnswerForm(forms.Form):
    """A household's rating: overall 1–5 (required), each service area 1–5 (optional)."""

    overall = forms.ChoiceField(label=_("Overall"), choices=STARS, widget=forms.RadioSelect)
    cleaning = forms.ChoiceField(label=AREA_LABELS["cleaning"], choices=STARS, required=False)
    security = forms.ChoiceField(label=AREA_LABELS["security"], choices=STARS, required=False)
    repairs = forms.ChoiceField(label=AREA_LABELS["repairs"], choices=STARS, required=False)
    green_spaces = forms.ChoiceField(
        label=AREA_LABELS["green_spaces"], choices=STARS, required=False
    )
    parking = forms.ChoiceField(label=AREA_LABELS["parking"], choices=STARS, required=False)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["overall"].error_messages["required"] = _("Give a rating from 1 to 5.")
        self.fields["overall"].error_messages["invalid_choice"] = _("Give a rating from 1 to 5.")
        for area in AREAS:
            self.fields[area].error_messages["invalid_choice"] = _("Give a rating from 1 to 5.")

    def ratings(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "overall": data["overall"],
            **{area: data.get(area) or None for area in AREAS},
            "comment": data.get("comment", ""),
        }


class SurveyForm(forms.Form):
    """A new survey: which company, which of its estates, a title and the period."""

    provider = forms.TypedChoiceField(label=_("Property company"), coerce=int)
    estates = forms.TypedMultipleChoiceField(
        label=_("Estates"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    period_start = forms.DateField(
        label=_("Period from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("Period to"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        providers: list[Organization],
        estates: list[Estate],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.providers = {p.pk: p for p in providers}
        self.estate_map = {e.pk: e for e in estates}
        provider_field = cast(forms.TypedChoiceField, self.fields["provider"])
        estates_field = cast(forms.TypedMultipleChoiceField, self.fields["estates"])
        provider_field.choices = [(p.pk, p.name) for p in providers]
        estates_field.choices = [(e.pk, e.name) for e in estates]


def apply_error(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's refusal on the form: on its field when it names one."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def parse_quarter(raw: str) -> tuple[dt.date, dt.date]:
    """'2026Q1' → (2026-01-01, 2026-03-31); ValidationError when not a quarter."""
    raw = raw.strip().upper()
    try:
        year_s, q_s = raw.split("Q")
        year, quarter = int(year_s), int(q_s)
    except ValueError:
        raise ValidationError(_("Choose a quarter."), code="invalid") from None
    if not (2000 <= year <= 2100 and 1 <= quarter <= 4):
        raise ValidationError(_("Choose a quarter."), code="invalid")
    start = dt.date(year, 3 * quarter - 2, 1)
    end_month = 3 * quarter
    end = (
        dt.date(year, 12, 31)
        if end_month == 12
        else dt.date(year, end_month + 1, 1) - dt.timedelta(days=1)
    )
    return start, end


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def recent_quarters(today: dt.date, count: int = 8) -> list[str]:
    """The quarter of today and the ones before it, newest first."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    out = []
    for _i in range(count):
        out.append(f"{year}Q{quarter}")
        quarter -= 1
        if quarter == 0:
            year, quarter = year - 1, 4
    return out


class ReasonForm(forms.Form):
    """Evidence (confirm), a reason (dismiss, remove) or the company's response."""

    text = forms.CharField(required=False, max_length=4000)
