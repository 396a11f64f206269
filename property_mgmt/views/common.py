"""What the property pages share: a service's refusal in words, and money as pages show it."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _


def refusal(exc: ValidationError | PermissionDenied) -> str:
    """The words of a service's refusal, for messages.error."""
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or _("You may not do this.")


class Money:
    """An amount as a page shows it: ¥1,234.50 (a Decimal would be localized unformatted);
    `negative` lets a template colour it."""

    def __init__(self, value: Decimal) -> None:
        self.value = value
        self.negative = value < 0

    def __str__(self) -> str:
        return f"{'-' if self.negative else ''}¥{abs(self.value):,.2f}"


def yuan(value: Decimal | None) -> Money | str:
    """An amount as pages show it (¥1,234.50); a dash for none."""
    return "—" if value is None else Money(value)


def yuan_text(value: Decimal | None) -> str:
    """`yuan` as text, for messages and rows built as strings."""
    return str(yuan(value))
