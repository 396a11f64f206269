from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from accounts.phone import normalize_phone


class PhoneBackend(ModelBackend):
    """Password login by mobile number, in whatever format it was typed."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kw: Any
    ) -> Any:
        if username is None:
            username = kw.get("phone")
        if username is None:
            return None
        return super().authenticate(request, username=normalize_phone(username), password=password)
