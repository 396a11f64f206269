from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class PhoneLoginForm(AuthenticationForm):
    """Login with a mobile number; the field keeps Django's name 'username' for axes."""

    username = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autofocus": True, "inputmode": "tel", "autocomplete": "username"}
        ),
    )

    error_messages = {
        "invalid_login": _("The mobile number or password is wrong."),
        "inactive": _("This account has been disabled."),
    }
