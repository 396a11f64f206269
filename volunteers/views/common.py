"""What the volunteers pages share: a domain refusal shown as a message."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _


def refusal(exc: ValidationError | PermissionDenied) -> str:
    """The words of a service's refusal, for messages.error."""
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or _("You may not do this.")
