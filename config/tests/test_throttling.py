from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from config.throttling import UserRateThrottle

pytestmark = pytest.mark.django_db


def test_a_user_over_the_rate_is_refused(monkeypatch: Any, world: Any, staff: Any) -> None:
    caches["throttle"].clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min", "anon": None})
    client = APIClient()
    client.force_login(staff)
    codes = [client.get("/api/v1/residents/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
