from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from config.throttling import UserRateThrottle, _WindowCounter, throttles_reset


@pytest.mark.django_db
def test_a_user_over_the_rate_is_refused(monkeypatch: Any, world: Any, staff: Any) -> None:
    throttles_reset()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min", "anon": None})
    client = APIClient()
    client.force_login(staff)
    codes = [client.get("/api/v1/residents/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert int(client.get("/api/v1/residents/").headers["Retry-After"]) > 0


def test_callers_are_counted_apart_and_the_limit_frees_up_as_the_window_slides() -> None:
    counter = _WindowCounter()
    assert [counter.hit("alice", 0.0, 3, 60) for _ in range(3)] == [None, None, None]
    assert counter.hit("alice", 1.0, 3, 60) is not None  # a 4th within the minute
    assert counter.hit("bob", 1.0, 3, 60) is None  # bob has his own count
    # Half-way into the next minute half of alice's 3 still weigh: 1.5 + 2 new ones fit.
    assert counter.hit("alice", 90.0, 3, 60) is None
    assert counter.hit("alice", 90.0, 3, 60) is None
    assert counter.hit("alice", 90.0, 3, 60) is not None
    # Two quiet minutes later nothing of the old ones weighs.
    assert [counter.hit("alice", 210.0, 3, 60) for _ in range(3)] == [None, None, None]


def test_a_refused_request_is_not_counted() -> None:
    counter = _WindowCounter()
    for _ in range(2):
        counter.hit("carol", 0.0, 2, 60)
    for _ in range(10):  # hammering while refused does not push the limit further out
        assert counter.hit("carol", 30.0, 2, 60) is not None
    assert counter.hit("carol", 60.0, 2, 60) is not None  # both still weigh fully at 60 s
    assert (
        counter.hit("carol", 91.0, 2, 60) is None
    )  # 2 × 29/60 of the old ones weigh < 2: room again
