"""The status map: every move outside it is refused and changes nothing."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import transaction

from grievances import services, workflow
from grievances.models import Dispatch, Grievance, TimelineEvent
from grievances.services.common import grievance_lock, grievance_move
from grievances.tests.factories import DispatchFactory, GrievanceFactory, photo_upload
from grievances.workflow import TRANSITIONS, TransitionNotAllowed

pytestmark = pytest.mark.django_db
Status = Grievance.Status

ALLOWED = {(old, new) for old, targets in TRANSITIONS.items() for new in targets}
REFUSED = [
    (old, new)
    for old, new in itertools.product(Status.values, Status.values)
    if (old, new) not in ALLOWED
]


def _raw(world: Any, status: str, **fields: Any) -> Any:
    extra: dict[str, Any] = {}
    if status == Status.MERGED:
        extra["merged_into"] = GrievanceFactory(community=world.home)
    if status == Status.REJECTED:
        extra["rejection_reason"] = "不属于社区职责"
    if status == Status.WAITING:
        extra.update(waiting_from=Status.ON_SITE, waiting_reason="等配件")
    return GrievanceFactory(community=world.home, status=status, **extra, **fields)


def test_the_map_knows_every_status_and_final_ones_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(Status.values)
    for status in workflow.FINAL_STATUSES:
        assert TRANSITIONS[status] == frozenset()
    assert all(targets <= set(Status.values) for targets in TRANSITIONS.values())


@pytest.mark.parametrize(("old", "new"), REFUSED)
def test_a_move_outside_the_map_is_refused_and_changes_nothing(
    world: Any, staff: Any, old: str, new: str
) -> None:
    grievance = _raw(world, old)
    with pytest.raises(TransitionNotAllowed) as caught, transaction.atomic():
        grievance_move(
            grievance=grievance_lock(grievance), to=new, actor=staff, now=grievance.submitted_at
        )
    assert caught.value.code == "transition"
    grievance.refresh_from_db()
    assert grievance.status == old
    assert not TimelineEvent.objects.filter(grievance=grievance).exists()
    assert grievance.history.count() == 1  # only the creation


def test_every_move_in_the_map_is_made_with_a_timeline_line_and_history(
    world: Any, staff: Any
) -> None:
    for old, new in sorted(ALLOWED):
        if old == Status.WAITING and new != Status.ON_SITE:
            continue  # waiting returns only where it paused from (next test)
        grievance = _raw(world, old)
        fields: dict[str, Any] = {}
        if new == Status.MERGED:
            fields["merged_into"] = GrievanceFactory(community=world.home)
        if new == Status.REJECTED:
            fields["rejection_reason"] = "重复"
        if new == Status.WAITING:
            fields.update(waiting_from=old, waiting_reason="等配件")
        with transaction.atomic():
            grievance_move(
                grievance=grievance_lock(grievance),
                to=new,
                actor=staff,
                now=grievance.submitted_at,
                **fields,
            )
        grievance.refresh_from_db()
        assert grievance.status == new, (old, new)
        line = TimelineEvent.objects.get(grievance=grievance)
        assert (line.old_value, line.new_value, line.actor) == (old, new, staff)
        assert grievance.history.count() == 2


def test_waiting_returns_only_to_the_status_it_paused_from(world: Any, staff: Any) -> None:
    grievance = _raw(world, Status.WAITING)  # paused from on_site
    assert workflow.allowed(grievance, Status.ON_SITE)
    with pytest.raises(TransitionNotAllowed), transaction.atomic():
        grievance_move(
            grievance=grievance_lock(grievance),
            to=Status.DISPATCHED,
            actor=staff,
            now=grievance.submitted_at,
        )
    grievance.refresh_from_db()
    assert grievance.status == Status.WAITING


def test_a_stale_status_loses_the_compare_and_set(world: Any, staff: Any) -> None:
    grievance = _raw(world, Status.SUBMITTED)
    stale = Grievance.objects.get(pk=grievance.pk)
    Grievance.objects.filter(pk=grievance.pk).update(status=Status.ACCEPTED)
    with pytest.raises(Exception) as caught, transaction.atomic():
        grievance_move(grievance=stale, to=Status.ACCEPTED, actor=staff, now=stale.submitted_at)
    assert getattr(caught.value, "code", None) == "conflict"
    assert not TimelineEvent.objects.filter(grievance=grievance).exists()


# --- the same rule through the services ----------------------------------------------------


def test_accepting_twice_is_refused(flow: Any) -> None:
    grievance = flow.accepted()
    with pytest.raises(TransitionNotAllowed):
        services.grievance_accept(grievance=grievance, actor=flow.staff, now=flow.tick())
    assert TimelineEvent.objects.filter(grievance=grievance, new_value="accepted").count() == 1


def test_rejecting_a_dispatched_grievance_is_refused(flow: Any) -> None:
    grievance, _dispatch = flow.dispatched()
    with pytest.raises(TransitionNotAllowed):
        services.grievance_reject(
            grievance=grievance, actor=flow.staff, reason="不管", now=flow.tick()
        )
    grievance.refresh_from_db()
    assert grievance.status == Status.DISPATCHED
    assert grievance.rejection_reason == ""


def test_checking_in_before_dispatch_is_refused(flow: Any) -> None:
    grievance = flow.accepted()
    with pytest.raises(TransitionNotAllowed):
        services.grievance_check_in(
            grievance=grievance,
            actor=flow.staff,
            now=flow.tick(),
            latitude="31.2",
            longitude="121.4",
        )
    grievance.refresh_from_db()
    assert grievance.status == Status.ACCEPTED


def test_a_closed_grievance_cannot_be_resolved_or_reopened(flow: Any) -> None:
    grievance = flow.resolved()
    services.grievance_rate(
        grievance=grievance, actor=flow.resident, solved=True, stars=5, now=flow.tick()
    )
    with pytest.raises(TransitionNotAllowed):
        services.grievance_resolve(
            grievance=grievance,
            actor=flow.staff,
            note="再修",
            now=flow.tick(),
            photos=[photo_upload()],
        )
    with pytest.raises(TransitionNotAllowed):
        services.grievance_rate(
            grievance=grievance, actor=flow.resident, solved=False, stars=1, now=flow.tick()
        )
    grievance.refresh_from_db()
    assert grievance.status == Status.CLOSED


def test_waiting_cannot_be_resolved_without_resuming(flow: Any) -> None:
    grievance = flow.on_site()
    services.grievance_wait(
        grievance=grievance, actor=flow.property_staff, reason="等配件", now=flow.tick()
    )
    with pytest.raises(TransitionNotAllowed):
        services.grievance_resolve(
            grievance=grievance,
            actor=flow.property_staff,
            note="修好了",
            now=flow.tick(),
            photos=[photo_upload()],
        )
    grievance.refresh_from_db()
    assert grievance.status == Status.WAITING


def test_resuming_a_grievance_that_is_not_waiting_is_refused(flow: Any) -> None:
    grievance = flow.on_site()
    with pytest.raises(TransitionNotAllowed):
        services.grievance_resume(grievance=grievance, actor=flow.property_staff, now=flow.tick())


def test_merging_a_grievance_someone_is_on_site_for_is_refused(flow: Any) -> None:
    grievance = flow.on_site()
    other = flow.file()
    with pytest.raises(TransitionNotAllowed):
        services.grievance_merge(grievance=grievance, into=other, actor=flow.staff, now=flow.tick())
    grievance.refresh_from_db()
    assert grievance.status == Status.ON_SITE and grievance.merged_into is None


def test_rating_before_resolution_is_refused(flow: Any) -> None:
    grievance = flow.on_site()
    with pytest.raises(TransitionNotAllowed):
        services.grievance_rate(
            grievance=grievance, actor=flow.resident, solved=True, stars=5, now=flow.tick()
        )


def test_two_live_dispatches_are_refused_by_the_database(flow: Any) -> None:
    grievance, dispatch = flow.dispatched()
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        DispatchFactory(grievance=grievance, organization=dispatch.organization)
    assert Dispatch.objects.filter(grievance=grievance).count() == 1
