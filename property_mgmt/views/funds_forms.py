"""Forms of the fund pages: they parse input; the services judge it (amounts, officers)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from property_mgmt.models import FundEntry

INCOME_CHOICES = [
    (FundEntry.Kind.FEE.value, FundEntry.Kind.FEE.label),
    (FundEntry.Kind.DONATION.value, FundEntry.Kind.DONATION.label),
    (FundEntry.Kind.OTHER_INCOME.value, FundEntry.Kind.OTHER_INCOME.label),
]


class StyledForm(forms.Form):
    """Bootstrap classes on every widget (the templates render fields as they come)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


def _amount_widget() -> forms.TextInput:
    # Text, not number: a phone keyboard with decimals, and the service gives the message.
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


class IncomeForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=INCOME_CHOICES)
    amount = forms.CharField(label=_("Amount (RMB)"), max_length=20, widget=_amount_widget())
    occurred_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    household = forms.TypedChoiceField(
        label=_("Room"), coerce=int, required=False, empty_value=None, choices=[]
    )
    payer_name = forms.CharField(label=_("Paid by"), max_length=100, required=False)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def __init__(self, *args: Any, households: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.households = {h.pk: h for h in households}
        self.fields["household"].choices = [("", _("— none —"))] + [  # type: ignore[attr-defined]
            (h.pk, f"{h.unit.number}-{h.room}") for h in households
        ]


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos in one input; each is checked by the service (photo_check)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        attrs = {"accept": "image/*", "capture": "environment", "multiple": True}
        kwargs.setdefault("widget", MultiplePhotoInput(attrs=attrs))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if isinstance(data, list | tuple):
            return [super(MultiplePhotoField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class ExpenseForm(StyledForm):
    purpose = forms.CharField(label=_("Purpose"), max_length=200)
    amount = forms.CharField(label=_("Amount (RMB)"), max_length=20, widget=_amount_widget())
    photos = MultiplePhotoField(label=_("Quote photos"))


class DecisionForm(StyledForm):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea({"rows": 2}))


class ReceiptForm(StyledForm):
    photos = MultiplePhotoField(label=_("Receipt photos"))


class CorrectionForm(StyledForm):
    amount = forms.CharField(
        label=_("Change (RMB, negative to take off)"), max_length=20, widget=_amount_widget()
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)


class OfficersForm(StyledForm):
    keeper = forms.TypedChoiceField(label=_("Keeper (管钱)"), coerce=int, choices=[])
    bookkeeper = forms.TypedChoiceField(label=_("Bookkeeper (管账)"), coerce=int, choices=[])

    def __init__(self, *args: Any, members: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {u.pk: u for u in members}
        choices = [("", "—")] + [(u.pk, u.name or str(u)) for u in members]
        self.fields["keeper"].choices = choices  # type: ignore[attr-defined]
        self.fields["bookkeeper"].choices = choices  # type: ignore[attr-defined]


class FundCreateForm(OfficersForm):
    name = forms.CharField(label=_("Name of the fund"), max_length=100)
    annual_fee = forms.CharField(
        label=_("Annual fee per household (RMB)"),
        max_length=20,
        required=False,
        widget=_amount_widget(),
    )
    field_order = ["name", "keeper", "bookkeeper", "annual_fee"]


def apply_error(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal onto the form: under its field when the form has it."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, exc)
