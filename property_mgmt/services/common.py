"""What the property_mgmt services share."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError naming its form field that keeps its code (the dict form drops it).

    `ValidationError({field: message}, code=...)` loses the code: the API would answer
    "invalid" instead of saying which rule refused.
    """
    return ValidationError({field: ValidationError(message, code=code)})
