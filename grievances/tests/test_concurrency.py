"""Workflow races on PostgreSQL (SQLite ignores row locks): threads released together,
each with its own connection and transaction, as concurrent requests would be."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from grievances import services
from grievances.models import Dispatch, Grievance, Rating, SlaClock, TimelineEvent
from tests.concurrency import all_together as together

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
Status = Grievance.Status


def test_ten_acceptances_of_one_dispatch_make_one_handler_and_one_set_of_clocks(
    require_postgres: None, flow: Any
) -> None:
    grievance, dispatch = flow.dispatched()
    now = flow.tick()
    results, errors = together(
        [
            lambda: services.dispatch_accept(dispatch=dispatch, actor=flow.property_staff, now=now)
            for _ in range(10)
        ]
    )
    assert len(results) == 1 and len(errors) == 9
    assert all(getattr(e, "code", None) == "dispatch_answered" for e in errors)
    assert SlaClock.objects.filter(grievance=grievance).count() == 2
    assert TimelineEvent.objects.filter(grievance=grievance, kind="dispatch_accepted").count() == 1


def test_accept_and_withdraw_at_once_end_in_one_consistent_state(
    require_postgres: None, flow: Any
) -> None:
    for _round in range(5):
        grievance, dispatch = flow.dispatched()
        now = flow.tick()
        _results, errors = together(
            [
                lambda d=dispatch, t=now: services.dispatch_accept(
                    dispatch=d, actor=flow.property_staff, now=t
                ),
                lambda d=dispatch, t=now: services.dispatch_withdraw(
                    dispatch=d, actor=flow.staff, reason="改派", now=t
                ),
            ]
        )
        assert len(errors) <= 1
        grievance.refresh_from_db()
        dispatch.refresh_from_db()
        if dispatch.status == Dispatch.Status.WITHDRAWN:
            assert grievance.status == Status.ACCEPTED
            assert grievance.handler_organization is None
        else:  # accepted, and the withdrawal was refused by the map or came first
            assert dispatch.status == Dispatch.Status.ACCEPTED
            assert grievance.status == Status.DISPATCHED
            assert grievance.handler_organization == flow.world.property_company


def test_a_rating_and_the_autoclose_at_once_close_it_once(
    require_postgres: None, flow: Any
) -> None:
    grievance = flow.resolved()
    later = flow.now + dt.timedelta(days=4)
    _results, errors = together(
        [
            lambda: services.grievance_rate(
                grievance=grievance, actor=flow.resident, solved=True, stars=5, now=later
            ),
            lambda: services.grievances_autoclose(now=later),
        ]
    )
    assert Rating.objects.filter(grievance=grievance).count() == 1
    grievance.refresh_from_db()
    assert grievance.status == Status.CLOSED
    closing = TimelineEvent.objects.filter(grievance=grievance, new_value=Status.CLOSED)
    assert closing.count() == 1
    assert len(errors) <= 1  # the rater finds it closed already, or the sweep skips it


def test_merging_a_pair_both_ways_at_once_merges_one_way(require_postgres: None, flow: Any) -> None:
    first, second = flow.file(), flow.file()
    now = flow.tick()
    results, errors = together(
        [
            lambda: services.grievance_merge(
                grievance=first, into=second, actor=flow.staff, now=now
            ),
            lambda: services.grievance_merge(
                grievance=second, into=first, actor=flow.staff, now=now
            ),
        ]
    )
    assert len(results) == 1 and len(errors) == 1
    statuses = sorted(
        Grievance.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
    )
    assert statuses == [Status.MERGED, Status.SUBMITTED]


def test_the_same_idempotency_key_twenty_times_at_once_files_one_grievance(
    require_postgres: None, flow: Any
) -> None:
    now = flow.tick()
    results, errors = together(
        [lambda: flow.file(idempotency_key="phone-7:1", now=now) for _ in range(20)]
    )
    assert errors == []
    assert len({grievance.pk for grievance in results}) == 1
    assert Grievance.objects.filter(idempotency_key="phone-7:1").count() == 1
    assert TimelineEvent.objects.filter(kind="created").count() == 1
