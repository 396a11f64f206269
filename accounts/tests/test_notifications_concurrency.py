"""notify() under concurrent callers, on PostgreSQL (SQLite serialises writers).

Threads are released together through a barrier; each has its own connection and its
own transaction, as an SLA sweep on two workers (or a sweep and a web request) would.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import Notification, NotificationDelivery, User
from accounts.notifications import notify
from tests.concurrency import together as _together

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 12


def together(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """work(i) on n threads released together, each in a durable transaction."""
    return _together(n, work, atomic=True)


def _users(n: int) -> list[User]:
    return [
        User.objects.create_user(f"1370000{i:04d}", "a-Strong-pass-1", name=f"网格员{i}")
        for i in range(n)
    ]


def test_the_same_ref_at_once_makes_one_notification_and_no_error(
    require_postgres: None, settings: Any
) -> None:
    settings.LINLI_NOTIFICATION_BACKENDS = ["accounts.notifications.backends.ConsoleBackend"]
    [user] = _users(1)
    results, errors = together(
        THREADS,
        lambda i: notify(users=[user], subject="工单超时", ref="sla-event:123"),
    )
    assert errors == []
    assert sorted(len(created) for created in results) == [0] * (THREADS - 1) + [1]
    assert Notification.objects.filter(user=user, ref="sla-event:123").count() == 1
    assert NotificationDelivery.objects.count() == 1  # and it is delivered once


def test_callers_listing_the_same_people_in_any_order_neither_deadlock_nor_duplicate(
    require_postgres: None,
) -> None:
    users = _users(5)

    def work(i: int) -> list[Notification]:
        shuffled = users[:]
        random.Random(i).shuffle(shuffled)
        return notify(users=shuffled, subject="工单超时", ref="sla-event:7")

    results, errors = together(THREADS, work)
    assert errors == []
    assert sum(len(created) for created in results) == len(users)
    assert sorted(
        Notification.objects.filter(ref="sla-event:7").values_list("user_id", flat=True)
    ) == sorted(u.pk for u in users)
