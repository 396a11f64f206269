"""`seed_grievance_scale`: benchmark data that the SLA engine reads like its own.

PostgreSQL only (the command loads with COPY); small sizes.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from grievances.management.commands.seed_grievance_scale import AS_OF, BACKLOG
from grievances.models import Dispatch, Grievance, SlaClock, SlaEvent, TimelineEvent
from grievances.sla.sweep import sla_due_count, sla_sweep

pytestmark = pytest.mark.django_db(transaction=True)

GRIEVANCES = 3000
RUNNING = 500


def _seed(grievances: int = GRIEVANCES, running: int = RUNNING) -> str:
    out = StringIO()
    call_command("seed_grievance_scale", grievances=grievances, running=running, stdout=out)
    return out.getvalue()


@pytest.fixture
def registry(require_postgres: None) -> None:
    call_command("seed_scale", residents=200, stdout=StringIO())


def _running_work() -> list[tuple[Any, ...]]:
    """What a sweep will ever read of the running clocks, in a comparable order."""
    return list(
        SlaClock.objects.filter(state=SlaClock.State.RUNNING)
        .order_by("due_at", "kind", "warn_at")
        .values_list(
            "kind",
            "due_at",
            "warn_at",
            "escalate_at",
            "escalation_level",
            "warned_at",
            "breached_at",
        )
    )


def test_counts_and_a_second_run_does_nothing(registry: None) -> None:
    _seed()
    assert Grievance.objects.count() == GRIEVANCES
    assert SlaClock.objects.filter(state=SlaClock.State.RUNNING).count() == RUNNING
    statuses = set(Grievance.objects.values_list("status", flat=True))
    assert {"closed", "rejected", "merged", "on_site", "dispatched", "waiting", "resolved"} <= (
        statuses
    )
    # Every grievance has its "filed" line; every open one in a handler's hands a dispatch.
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CREATED).count() == GRIEVANCES
    in_hands = Grievance.objects.filter(status__in=["on_site", "waiting"])
    assert not in_hands.exclude(dispatches__status=Dispatch.Status.ACCEPTED).exists()
    # Closed history carries its breaches and warnings as events, once each.
    assert SlaEvent.objects.filter(kind=SlaEvent.Kind.BREACH).exists()
    assert _seed().startswith("nothing to do")
    assert Grievance.objects.count() == GRIEVANCES


def test_clocks_are_as_a_sweep_left_them_and_leave_an_hours_backlog(registry: None) -> None:
    _seed()
    # Everything due up to an hour before AS_OF was recorded...
    assert sla_due_count(now=AS_OF - BACKLOG) == 0
    # ... and the hour after it is the backlog: breaches, warnings and some escalations.
    result = sla_sweep(now=AS_OF, time_budget=None)
    assert result.breaches >= RUNNING // 100
    assert result.warnings > 0
    assert result.complete
    assert sla_due_count(now=AS_OF) == 0
    # The sweep's ids came from the sequences the seed moved on: new rows insert fine.
    assert SlaEvent.objects.filter(recorded_at=AS_OF).count() >= result.breaches


def test_the_running_work_does_not_depend_on_the_total(registry: None) -> None:
    _seed(grievances=GRIEVANCES)
    small = _running_work()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE grievances_slaevent, grievances_slaclock, grievances_timelineevent, "
            "grievances_dispatch, grievances_grievance CASCADE"
        )
    _seed(grievances=2 * GRIEVANCES)
    assert Grievance.objects.count() == 2 * GRIEVANCES
    assert _running_work() == small


def test_too_few_grievances_for_the_running_clocks_is_refused(registry: None) -> None:
    with pytest.raises(CommandError, match="cannot hold"):
        _seed(grievances=100, running=RUNNING)
    assert not Grievance.objects.exists()
