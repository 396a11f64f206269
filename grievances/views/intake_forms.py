"""Forms of the intake pages: one grievance form shaped by who files, and the suggestion box.

They check what a person typed (required fields, lengths, the category's extra
questions); whether this person may file this way here, and everything about the place,
is the intake service's to decide.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.models import Building
from grievances.attachments import MAX_PHOTOS
from grievances.models import Category
from grievances.selectors.f1_intake import HOTLINE, RESIDENT, WORKER

ATTRIBUTE_PREFIX = "attr_"
TITLE_MAX = 120
DESCRIPTION_MAX = 4000
ATTRIBUTE_TEXT_MAX = 1000


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several files under one name; their content is checked by grievances.attachments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("At most %(n)s photos at a time.") % {"n": MAX_PHOTOS}, code="photo_count"
            )
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


def category_choices(tree: Iterable[tuple[Category, list[Category]]]) -> list[Any]:
    """A two-level picker: each top level an <optgroup> of its subcategories; a top level
    without subcategories is a choice of its own."""
    choices: list[Any] = [("", _("— choose —"))]
    for top, children in tree:
        if children:
            choices.append((top.name, [(c.pk, c.name) for c in children]))
        else:
            choices.append((top.pk, top.name))
    return choices


def building_choices(buildings: Iterable[Building], *, blank: Any) -> list[Any]:
    """Buildings grouped by estate (小区)."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for building in buildings:
        groups.setdefault(building.estate.name, []).append((building.pk, building.number))
    return [("", blank), *((estate, rows) for estate, rows in groups.items())]


def attribute_fields(
    category: Category | None,
) -> list[tuple[str, forms.Field | None, dict[str, Any]]]:
    """Form fields for the category's extra questions (Open311 attribute definitions),
    ordered; an informational one (variable=false) has no field, only its text."""
    if category is None:
        return []
    fields: list[tuple[str, forms.Field | None, dict[str, Any]]] = []
    definitions = sorted(
        (d for d in category.attributes or [] if d.get("code")),
        key=lambda d: (d.get("order") or 0, str(d.get("code"))),
    )
    for definition in definitions:
        code = str(definition["code"])
        name = ATTRIBUTE_PREFIX + code
        if definition.get("variable") is False:
            fields.append((name, None, definition))
            continue
        label = definition.get("description") or code
        required = bool(definition.get("required"))
        datatype = definition.get("datatype", "string")
        values = [
            (str(v.get("key")), v.get("name") or v.get("key"))
            for v in definition.get("values") or []
        ]
        field: forms.Field
        if datatype == "singlevaluelist":
            field = forms.ChoiceField(
                label=label, required=required, choices=values, widget=forms.RadioSelect
            )
        elif datatype == "multivaluelist":
            field = forms.MultipleChoiceField(
                label=label, required=required, choices=values, widget=forms.CheckboxSelectMultiple
            )
        elif datatype == "number":
            field = forms.DecimalField(
                label=label,
                required=required,
                max_digits=12,
                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            )
        elif datatype == "datetime":
            field = forms.DateTimeField(
                label=label,
                required=required,
                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
                widget=forms.DateTimeInput(
                    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
                ),
            )
        elif datatype == "text":
            field = forms.CharField(
                label=label,
                required=required,
                max_length=ATTRIBUTE_TEXT_MAX,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        else:
            field = forms.CharField(label=label, required=required, max_length=ATTRIBUTE_TEXT_MAX)
        fields.append((name, field, definition))
    return fields


def attribute_value(value: Any) -> Any:
    """An answer as the service takes it (text, or a list of keys)."""
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    return value


def style_widgets(form: forms.Form) -> None:
    """Bootstrap classes on the widgets (radios and checkboxes are laid out by the template)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple | forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs["class"] = "form-check-input"
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select"
        else:
            widget.attrs["class"] = "form-control"


def mark_invalid(form: forms.Form) -> None:
    """Outline the fields with errors (Bootstrap's is-invalid) before rendering again."""
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()
            widget.attrs["aria-invalid"] = "true"


class GrievanceForm(forms.Form):
    """The grievance form; which fields count depends on `mode` (resident, worker, hotline)."""

    # Ties the draft, its retries and the filed grievance together (see views.intake).
    submission_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    category = forms.TypedChoiceField(label=_("What kind of problem"), coerce=int)
    title = forms.CharField(
        label=_("In a few words"),
        max_length=TITLE_MAX,
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. The corridor light on floor 3 is out")}
        ),
    )
    description = forms.CharField(
        label=_("What happened"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    # Resident: at home, or elsewhere in the community (a lamp by another building).
    where = forms.ChoiceField(
        label=_("Where"),
        choices=[("home", _("At my home")), ("elsewhere", _("Elsewhere in the community"))],
        initial="home",
        required=False,
        widget=forms.RadioSelect,
    )
    building = forms.TypedChoiceField(label=_("Building"), coerce=int, required=False)
    unit = forms.TypedChoiceField(label=_("Unit"), coerce=int, required=False, empty_value=None)
    address = forms.CharField(
        label=_("Exact place (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. stairwell of floor 3, by the east gate")}
        ),
    )
    latitude = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)
    # Grid worker: found on patrol, or told by a resident.
    source = forms.ChoiceField(
        label=_("Who raised it"),
        choices=[
            ("patrol", _("I found it on patrol")),
            ("resident", _("A resident told me")),
        ],
        initial="patrol",
        required=False,
        widget=forms.RadioSelect,
    )
    # Rendered as radio buttons of the search results (templates/grievances/intake).
    resident = forms.IntegerField(label=_("Resident"), required=False)
    # Hotline: who called.
    caller_name = forms.CharField(label=_("Caller's name"), max_length=50, required=False)
    caller_phone = forms.CharField(
        label=_("Caller's phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    photos = MultiplePhotoField(label=_("Photos"), required=False)

    def __init__(
        self,
        *args: Any,
        mode: str,
        categories: list[Any],
        buildings: Iterable[Building],
        category: Category | None,
        units: Iterable[Any] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.mode = mode
        self.fields["category"].choices = category_choices(categories)  # type: ignore[attr-defined]
        self.fields["building"].choices = building_choices(buildings, blank=_("— choose —"))  # type: ignore[attr-defined]
        self.fields["unit"].choices = [("", _("— whole building —"))] + [  # type: ignore[attr-defined]
            (u.pk, u.number) for u in units
        ]
        if mode == HOTLINE:
            self.fields["caller_phone"].required = True
        if mode == WORKER:
            self.fields["building"].required = True
        self.category_obj = category
        self.questions = attribute_fields(category)
        for name, field, _definition in self.questions:
            if field is not None:
                self.fields[name] = field
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4().hex)
        style_widgets(self)
        # The duplicate warning follows the category and the building (htmx).
        self.fields["category"].widget.attrs["data-dup-source"] = "category"
        self.fields["building"].widget.attrs["data-dup-source"] = "building"
        self.fields["photos"].widget.attrs.update(
            {"accept": "image/*", "capture": "environment", "data-photo-input": "photos"}
        )

    @property
    def question_fields(self) -> list[tuple[Any, dict[str, Any]]]:
        """(bound field or None, definition) of each extra question, for the template."""
        return [(self[name] if field is not None else None, d) for name, field, d in self.questions]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.mode == RESIDENT and data.get("where") == "elsewhere" and not data.get("building"):
            self.add_error("building", _("Choose the building where it is."))
        if self.mode == WORKER and data.get("source") == "resident" and not data.get("resident"):
            self.add_error(
                "resident", _("Pick the resident who told you, or switch to a patrol finding.")
            )
        lat, lng = data.get("latitude"), data.get("longitude")
        if bool(lat) != bool(lng):
            data["latitude"] = data["longitude"] = ""
        return data

    def attributes(self) -> dict[str, Any]:
        """The answers to the extra questions, keyed by question code (blank ones left out)."""
        answers: dict[str, Any] = {}
        for name, field, definition in self.questions:
            if field is None:
                continue
            value = self.cleaned_data.get(name)
            if value in (None, "", []):
                continue
            answers[str(definition["code"])] = attribute_value(value)
        return answers


class SuggestionForm(forms.Form):
    """The suggestion box (意见箱): a few words, the text, and whether to sign it."""

    category = forms.TypedChoiceField(label=_("About"), coerce=int)
    subject = forms.CharField(
        label=_("Subject (optional)"),
        max_length=TITLE_MAX,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. More benches in the garden")}),
    )
    text = forms.CharField(
        label=_("Your suggestion"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    anonymous = forms.BooleanField(label=_("Send it anonymously"), required=False)
    # The office copying a paper slip: who wrote it, if they signed it.
    writer_name = forms.CharField(
        label=_("Writer's name (optional)"), max_length=50, required=False
    )
    writer_phone = forms.CharField(
        label=_("Writer's phone (optional)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, categories: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = category_choices(categories)
        field = self.fields["category"]
        field.choices = choices  # type: ignore[attr-defined]
        leaves = [c for c in choices[1:] if not isinstance(c[1], list)]
        if len(choices) == 2 and leaves:
            # One suggestion category: nothing to choose.
            field.initial = leaves[0][0]
            field.widget = forms.HiddenInput()
        style_widgets(self)

    def title(self) -> str:
        """The subject, or the start of the text (the service wants a title)."""
        subject = (self.cleaned_data.get("subject") or "").strip()
        if subject:
            return subject
        text = " ".join((self.cleaned_data.get("text") or "").split())
        return text if len(text) <= 30 else text[:30] + "…"
