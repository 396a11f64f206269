"""django-axes: lockout is per username *and* IP, so a building behind one NAT is safe."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

URL = "accounts:login"


def _fail(client: Any, phone: str, ip: str, times: int) -> Any:
    response = None
    for _ in range(times):
        response = client.post(
            reverse(URL), {"username": phone, "password": "wrong-guess-1"}, REMOTE_ADDR=ip
        )
    return response


def _login(client: Any, phone: str, password: str, ip: str) -> Any:
    return client.post(reverse(URL), {"username": phone, "password": password}, REMOTE_ADDR=ip)


def test_repeated_failures_lock_out_that_number_from_that_ip(client: Any) -> None:
    User.objects.create_user("13900001111", "right-Pass-2026")
    response = _fail(client, "13900001111", "10.0.0.7", settings.AXES_FAILURE_LIMIT)
    assert response.status_code == 429
    # Even the right password is refused now, from this IP.
    locked = _login(client, "13900001111", "right-Pass-2026", "10.0.0.7")
    assert locked.status_code == 429
    assert "30" in locked.content.decode()  # the page says how long


def test_lockout_counts_differently_formatted_numbers_as_one(client: Any) -> None:
    User.objects.create_user("13900001111", "right-Pass-2026")
    formats = ["13900001111", "139 0000 1111", "139-0000-1111", "+8613900001111", "13900001111"]
    for raw in formats[: settings.AXES_FAILURE_LIMIT]:
        response = client.post(
            reverse(URL), {"username": raw, "password": "x-wrong-1"}, REMOTE_ADDR="10.0.0.7"
        )
    assert response.status_code == 429


def test_neighbour_on_the_same_ip_can_still_log_in(client: Any) -> None:
    User.objects.create_user("13900001111", "right-Pass-2026")
    User.objects.create_user("13900002222", "neighbour-Pass-2026")
    _fail(client, "13900001111", "10.0.0.7", settings.AXES_FAILURE_LIMIT)
    response = _login(client, "13900002222", "neighbour-Pass-2026", "10.0.0.7")
    assert response.status_code == 302


def test_same_number_from_another_ip_is_not_locked(client: Any) -> None:
    User.objects.create_user("13900001111", "right-Pass-2026")
    _fail(client, "13900001111", "10.0.0.7", settings.AXES_FAILURE_LIMIT)
    response = _login(client, "13900001111", "right-Pass-2026", "10.0.0.8")
    assert response.status_code == 302


def test_api_token_endpoint_is_locked_out_too(client: Any) -> None:
    User.objects.create_user("13900001111", "right-Pass-2026")
    _fail(client, "13900001111", "10.0.0.9", settings.AXES_FAILURE_LIMIT)
    response = client.post(
        reverse("api-token"),
        {"username": "13900001111", "password": "right-Pass-2026"},
        REMOTE_ADDR="10.0.0.9",
    )
    assert response.status_code != 200
