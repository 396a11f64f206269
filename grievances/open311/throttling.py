"""Rate limits of the Open311 endpoints, counted like the REST API's (config.throttling).

Every request counts against its address; a POST also against its API key. The rates are
LINLI_OPEN311_THROTTLE_RATES = {"address": "60/min", "key": "600/min"} when set, else the
REST API's anonymous and user rates (so the test settings, which switch those off, switch
these off too).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

from config.throttling import _counter

_SCOPE = "open311"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _rate(kind: str) -> tuple[int, int] | None:
    rates: dict[str, str | None] | None = getattr(settings, "LINLI_OPEN311_THROTTLE_RATES", None)
    if rates is None:
        framework: dict[str, Any] = settings.REST_FRAMEWORK
        drf: dict[str, str | None] = framework.get("DEFAULT_THROTTLE_RATES", {})
        rates = {"address": drf.get("anon"), "key": drf.get("user")}
    rate = rates.get(kind)
    if not rate:
        return None
    count, period = rate.split("/")
    return int(count), _PERIODS[period[0]]


def open311_throttle_wait(request: HttpRequest, *, kind: str, ident: str = "") -> float | None:
    """Count the request; None when it may proceed, else the seconds to wait."""
    rate = _rate(kind)
    if rate is None:
        return None
    # The REST API's notion of the caller's address (X-Forwarded-For per NUM_PROXIES).
    ident = ident or BaseThrottle().get_ident(request)  # type: ignore[arg-type]
    limit, duration = rate
    return _counter(_SCOPE).hit(f"{kind}:{ident}", time.time(), limit, duration)
