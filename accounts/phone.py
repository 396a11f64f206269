"""Mainland China mobile numbers: the login name of every Linli user."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()（）]")


def normalize_phone(raw: str) -> str:
    """Strip spaces, dashes and a +86 / 0086 prefix: '+86 138-0013-8000' -> '13800138000'."""
    value = _SEPARATORS.sub("", (raw or "").strip())
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    if value.startswith("86") and len(value) == 13:
        value = value[2:]
    return value


def validate_mobile(value: str) -> None:
    if not _MOBILE.match(value or ""):
        raise ValidationError(
            _("Enter a valid mainland mobile number (11 digits starting with 1)."),
            code="invalid_mobile",
        )


def mask_phone(value: str | None) -> str:
    """'13800138000' -> '138****8000'. Anything that is not a full number is masked whole."""
    if not value:
        return ""
    if len(value) == 11:
        return f"{value[:3]}****{value[-4:]}"
    return "*" * len(value)


def axes_username(request: Any, credentials: dict[str, Any] | None) -> str:
    """django-axes key: the normalised number, so '138 0013 8000' and '13800138000' count as one."""
    raw = ""
    if credentials:
        raw = credentials.get("username") or credentials.get("phone") or ""
    if not raw and request is not None and hasattr(request, "POST"):
        raw = request.POST.get("username", "")
    return normalize_phone(str(raw))
