"""notify() under concurrent callers, on PostgreSQL (SQLite serialises writers).

Threads are released together through a barrier; each has its own connection and its
own transaction, as an SLA sweep on two workers (or a sweep and a web request) would.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections, transaction

from accounts.models import Notification, NotificationDelivery, User
from accounts.notifications import notify

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 12


def together(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run work(i) on n threads released at the same moment; return results and errors."""
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic(durable=True):
                result = work(i)
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


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
