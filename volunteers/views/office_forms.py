"""Forms of the office's volunteering pages: a new activity, adding team members."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.phone import normalize_phone, validate_mobile
from volunteers.models import Activity, Post, Team, TeamMember

DATETIME_INPUT = "%Y-%m-%dT%H:%M"


class _LocalDateTime(forms.DateTimeInput):
    """The browser's date-and-time picker (shown in the current time zone)."""

    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format=DATETIME_INPUT)


def _style(form: forms.Form) -> None:
    """Bootstrap's classes on every widget."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs["class"] = "form-check-input"
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select form-select-sm"
        else:
            widget.attrs["class"] = "form-control form-control-sm"


class ActivityForm(forms.Form):
    """A new activity; the choices of team and post are the community's own."""

    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices)
    place = forms.CharField(label=_("Place"), max_length=200)
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=_LocalDateTime())
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=_LocalDateTime())
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("No team"),
    )
    post = forms.ModelChoiceField(
        label=_("Service post"),
        queryset=Post.objects.none(),
        required=False,
        empty_label=_("No post"),
    )
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=10_000, initial=10)
    audience = forms.ChoiceField(
        label=_("Who may sign up"),
        choices=Activity.Audience.choices,
        initial=Activity.Audience.OPEN,
    )
    signup_open = forms.BooleanField(label=_("Sign-up open"), required=False, initial=True)

    def __init__(self, *args: Any, teams: Any, posts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        self.fields["post"].queryset = posts  # type: ignore[attr-defined]
        _style(self)


class MemberByPhoneForm(forms.Form):
    """Add somebody who has an account, found by their full phone number."""

    phone = forms.CharField(label=_("Phone number"), max_length=20)
    role = forms.ChoiceField(
        label=_("Role"), choices=TeamMember.Role.choices, initial=TeamMember.Role.MEMBER
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class OutsideMemberForm(forms.Form):
    """Add an outside person (an in-service party member from a partner unit)."""

    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Phone number"), max_length=20, required=False)
    employer = forms.CharField(label=_("Employer"), max_length=100, required=False)
    party_branch = forms.CharField(label=_("Party branch"), max_length=100, required=False)
    role = forms.ChoiceField(
        label=_("Role"), choices=TeamMember.Role.choices, initial=TeamMember.Role.MEMBER
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_phone(self) -> str:
        number = normalize_phone(self.cleaned_data["phone"])
        if number:
            validate_mobile(number)
        return number
