"""Forms of the fee and contract pages: they parse input; the services judge it (overlaps,
thresholds, what a bill may still take)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from community.models import Estate, Organization
from grievances.models import Category
from property_mgmt.models import FeePayment, ServiceContract

DATETIME_INPUT = "%Y-%m-%dT%H:%M"
#: A month of payments of a large estate is well under this; more is a mistake.
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def _style(form: forms.Form) -> None:
    """Bootstrap's classes on every widget."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs["class"] = "form-check-input"
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select form-select-sm"
        else:
            widget.attrs["class"] = "form-control form-control-sm"


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _amount_widget() -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


def apply_error(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal on the form (as a non-field error: the service names the field)."""
    for message in exc.messages:
        form.add_error(None, message)


class ContractForm(forms.Form):
    """A new service contract; provider, estate and categories are the community's choices."""

    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Organization.objects.none())
    estate = forms.ModelChoiceField(label=_("Estate"), queryset=Estate.objects.none())
    starts_on = forms.DateField(label=_("Starts on"), widget=_date_widget())
    ends_on = forms.DateField(
        label=_("Ends on"),
        widget=_date_widget(),
        help_text=_("the first day no longer covered, e.g. 2027-01-01 for the year 2026"),
    )
    fee_basis = forms.ChoiceField(label=_("Fee basis"), choices=ServiceContract.FeeBasis.choices)
    fee_standard = forms.DecimalField(
        label=_("Fee standard (RMB)"),
        max_digits=8,
        decimal_places=2,
        min_value=0,
        widget=_amount_widget(),
    )
    billing_mode = forms.ChoiceField(
        label=_("Billing mode"), choices=ServiceContract.BillingMode.choices
    )
    serve_first_threshold = forms.DecimalField(
        label=_("Satisfaction threshold (1–5)"),
        max_digits=3,
        decimal_places=2,
        required=False,
        widget=_amount_widget(),
        help_text=_("serve-first only: the average overall rating a building must reach"),
    )
    due_days = forms.IntegerField(label=_("Days to pay"), min_value=0, max_value=366, initial=30)
    scope_categories = forms.ModelMultipleChoiceField(
        label=_("Grievance categories in scope"),
        queryset=Category.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    promises = forms.CharField(
        label=_("Service promises"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("e.g. 1715: on site in 10 minutes, routine issues solved in 1 hour"),
    )

    def __init__(
        self,
        *args: Any,
        providers: QuerySet[Any],
        estates: QuerySet[Any],
        categories: QuerySet[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers  # type: ignore[attr-defined]
        self.fields["estate"].queryset = estates  # type: ignore[attr-defined]
        self.fields["scope_categories"].queryset = categories  # type: ignore[attr-defined]
        _style(self)


class PaymentForm(forms.Form):
    """Money received against one bill."""

    amount = forms.DecimalField(
        label=_("Amount (RMB)"), max_digits=10, decimal_places=2, widget=_amount_widget()
    )
    method = forms.ChoiceField(label=_("Method"), choices=FeePayment.Method.choices)
    paid_at = forms.DateTimeField(
        label=_("Paid at"),
        input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
    )
    reference = forms.CharField(
        label=_("Receipt or transfer number"),
        max_length=64,
        required=False,
        help_text=_("the same number recorded twice is recorded once"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class ImportForm(forms.Form):
    """An .xlsx of payments."""

    file = forms.FileField(
        label=_("Payments workbook (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError(_("Upload an Excel workbook (.xlsx)."), code="extension")
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(_("The file is larger than 5 MB; split it."), code="size")
        return upload
