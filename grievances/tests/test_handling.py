"""The handler's part: on site, progress, plan, waiting, resolving, extensions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Notification
from grievances import services
from grievances.models import (
    Attachment,
    DeadlineExtension,
    Dispatch,
    Grievance,
    SlaClock,
    Tier,
    TimelineEvent,
)
from grievances.tests.factories import photo_upload

pytestmark = pytest.mark.django_db
Status = Grievance.Status
HOUR = dt.timedelta(hours=1)


def _clock(grievance: Grievance, kind: str) -> SlaClock:
    return SlaClock.objects.get(grievance=grievance, kind=kind)


def test_check_in_records_position_and_photo_and_stops_the_arrive_clock(flow: Any) -> None:
    grievance, _dispatch = flow.taken()
    event = services.grievance_check_in(
        grievance=grievance,
        actor=flow.property_staff,
        now=flow.tick(3),
        latitude="31.230416",
        longitude="121.473701",
        photo=photo_upload("door.png", fmt="PNG"),
    )
    grievance.refresh_from_db()
    assert grievance.status == Status.ON_SITE
    assert (str(event.latitude), str(event.longitude)) == ("31.230416", "121.473701")
    photo = Attachment.objects.get(grievance=grievance)
    assert (photo.kind, photo.event, photo.content_type) == ("check_in", event, "image/png")
    arrive = _clock(grievance, "arrive")
    assert arrive.state == "stopped" and arrive.met_at == flow.now
    assert _clock(grievance, "resolve").state == "running"


def test_check_in_needs_a_position(flow: Any) -> None:
    grievance, _dispatch = flow.taken()
    with pytest.raises(ValidationError) as caught:
        services.grievance_check_in(
            grievance=grievance,
            actor=flow.property_staff,
            now=flow.tick(),
            latitude=None,
            longitude=None,
        )
    assert caught.value.code == "position"


def test_nobody_checks_in_before_the_receiver_accepts(flow: Any) -> None:
    grievance, _dispatch = flow.dispatched()
    with pytest.raises(PermissionDenied):
        services.grievance_check_in(
            grievance=grievance, actor=flow.property_staff, now=flow.tick(), latitude=1, longitude=1
        )
    with pytest.raises(ValidationError) as caught:  # not even the office
        services.grievance_check_in(
            grievance=grievance, actor=flow.staff, now=flow.tick(), latitude=1, longitude=1
        )
    assert caught.value.code == "not_accepted"


def test_someone_else_cannot_handle(flow: Any, grid_worker: Any, outsider: Any) -> None:
    grievance, _dispatch = flow.taken()
    for user in (grid_worker, outsider, flow.resident):
        with pytest.raises(PermissionDenied):
            services.grievance_check_in(
                grievance=grievance, actor=user, now=flow.tick(), latitude=1, longitude=1
            )
        with pytest.raises(PermissionDenied):
            services.grievance_progress_add(
                grievance=grievance, actor=user, note="我来看看", now=flow.tick()
            )


def test_progress_is_public_or_internal(flow: Any) -> None:
    grievance = flow.on_site()
    public = services.grievance_progress_add(
        grievance=grievance,
        actor=flow.property_staff,
        note="已关闭总阀",
        now=flow.tick(),
        photos=[photo_upload()],
    )
    internal = services.grievance_progress_add(
        grievance=grievance,
        actor=flow.staff,
        note="住户态度不好，注意沟通",
        now=flow.tick(),
        is_public=False,
    )
    assert (public.kind, public.is_public) == ("progress", True)
    assert (internal.kind, internal.is_public) == ("note", False)
    assert Attachment.objects.get(event=public).kind == "progress"


def test_a_plan_with_a_date_stops_the_plan_clock(flow: Any) -> None:
    grievance, dispatch = flow.dispatched()
    services.dispatch_accept(
        dispatch=dispatch, actor=flow.property_staff, now=flow.tick(), tier=Tier.COMPLEX
    )
    assert _clock(grievance, "plan").state == "running"
    with pytest.raises(ValidationError):
        services.grievance_plan_submit(
            grievance=grievance,
            actor=flow.property_staff,
            plan="更换整段管道",
            plan_due=dt.date(2020, 1, 1),
            now=flow.tick(),
        )
    services.grievance_plan_submit(
        grievance=grievance,
        actor=flow.property_staff,
        plan="更换整段管道，需停水半天",
        plan_due=dt.date(2026, 3, 10),
        now=flow.tick(),
    )
    grievance.refresh_from_db()
    assert grievance.plan_due == dt.date(2026, 3, 10)
    assert _clock(grievance, "plan").state == "stopped"
    assert TimelineEvent.objects.filter(grievance=grievance, kind="plan", is_public=True).exists()


def test_waiting_pauses_and_resuming_moves_the_due_time_by_the_pause(flow: Any) -> None:
    grievance = flow.on_site()
    due = _clock(grievance, "resolve").due_at
    services.grievance_wait(
        grievance=grievance, actor=flow.property_staff, reason="住户不在家", now=flow.tick()
    )
    grievance.refresh_from_db()
    assert grievance.status == Status.WAITING
    assert (grievance.waiting_from, grievance.waiting_reason) == (Status.ON_SITE, "住户不在家")
    assert _clock(grievance, "resolve").state == "paused"
    services.grievance_resume(grievance=grievance, actor=flow.property_staff, now=flow.now + HOUR)
    grievance.refresh_from_db()
    assert grievance.status == Status.ON_SITE
    assert (grievance.waiting_from, grievance.waiting_reason) == ("", "")
    resolve = _clock(grievance, "resolve")
    assert resolve.state == "running" and resolve.due_at == due + HOUR


def test_waiting_needs_a_reason_and_an_accepted_dispatch(flow: Any) -> None:
    grievance, _dispatch = flow.taken()
    with pytest.raises(ValidationError):
        services.grievance_wait(
            grievance=grievance, actor=flow.property_staff, reason=" ", now=flow.tick()
        )
    pending, _d = flow.dispatched()
    with pytest.raises(ValidationError):
        services.grievance_wait(grievance=pending, actor=flow.staff, reason="等", now=flow.tick())


def test_waiting_from_dispatched_returns_to_dispatched(flow: Any) -> None:
    grievance, _dispatch = flow.taken()
    services.grievance_wait(
        grievance=grievance, actor=flow.property_staff, reason="配件在路上", now=flow.tick()
    )
    services.grievance_resume(grievance=grievance, actor=flow.property_staff, now=flow.tick())
    grievance.refresh_from_db()
    assert grievance.status == Status.DISPATCHED


def test_resolving_needs_a_note_and_an_after_photo(flow: Any) -> None:
    grievance = flow.on_site()
    with pytest.raises(ValidationError) as caught:
        services.grievance_resolve(
            grievance=grievance, actor=flow.property_staff, note="修好了", now=flow.tick()
        )
    assert caught.value.code == "after_photo"
    with pytest.raises(ValidationError):
        services.grievance_resolve(
            grievance=grievance,
            actor=flow.property_staff,
            note="",
            now=flow.tick(),
            photos=[photo_upload()],
        )
    grievance.refresh_from_db()
    assert grievance.status == Status.ON_SITE and not Attachment.objects.exists()


def test_resolving_completes_the_dispatch_stops_clocks_and_asks_the_reporter(flow: Any) -> None:
    grievance = flow.resolved()
    assert grievance.status == Status.RESOLVED and grievance.resolution == "换了灯泡"
    assert grievance.resolved_at == flow.now
    assert Dispatch.objects.get(grievance=grievance).status == Dispatch.Status.COMPLETED
    assert set(SlaClock.objects.filter(grievance=grievance).values_list("state", flat=True)) == {
        "stopped"
    }
    after = Attachment.objects.get(grievance=grievance, kind="after")
    assert after.event.kind == "resolved"
    assert Notification.objects.filter(user=flow.resident, kind="grievance.resolved").exists()


def test_the_office_answers_a_suggestion_itself_without_a_photo(flow: Any) -> None:
    grievance = flow.accepted(category=flow.categories.suggestion, title="建议增加健身器材")
    services.grievance_resolve(
        grievance=grievance, actor=flow.staff, note="已列入明年计划", now=flow.tick()
    )
    grievance.refresh_from_db()
    assert grievance.status == Status.RESOLVED


def test_only_the_office_resolves_from_its_desk(flow: Any) -> None:
    grievance = flow.accepted()
    with pytest.raises(PermissionDenied):
        services.grievance_resolve(
            grievance=grievance,
            actor=flow.property_staff,
            note="好了",
            now=flow.tick(),
            photos=[photo_upload()],
        )


# --- deadline extensions ---------------------------------------------------------------------


def _leak_in_hands(flow: Any) -> tuple[Grievance, SlaClock]:
    grievance, dispatch = flow.dispatched(
        category=flow.categories.leak, attributes={"where": "pipe"}
    )
    services.dispatch_accept(
        dispatch=dispatch, actor=flow.property_staff, now=flow.tick(), tier=Tier.REPAIR_MEDIUM
    )
    return grievance, _clock(grievance, "repair_medium")


def test_an_approved_extension_moves_the_due_date(flow: Any) -> None:
    grievance, clock = _leak_in_hands(flow)
    request = services.deadline_extension_request(
        clock=clock, actor=flow.property_staff, reason="等厂家配件", now=flow.tick(), extra_days=3
    )
    assert Notification.objects.filter(user=flow.staff, kind="grievance.extension_requested")
    services.deadline_extension_decide(
        extension=request, actor=flow.staff, approve=True, now=flow.tick(), note="同意"
    )
    request.refresh_from_db()
    later = _clock(grievance, "repair_medium")
    assert request.status == "approved" and request.decided_by == flow.staff
    assert later.due_at > clock.due_at and later.extensions == 1
    assert Notification.objects.filter(
        user=flow.property_staff, kind="grievance.extension_decided"
    ).exists()


def test_a_refused_extension_changes_no_date(flow: Any) -> None:
    grievance, clock = _leak_in_hands(flow)
    request = services.deadline_extension_request(
        clock=clock, actor=flow.property_staff, reason="忙", now=flow.tick(), extra_days=1
    )
    services.deadline_extension_decide(
        extension=request, actor=flow.staff, approve=False, now=flow.tick()
    )
    request.refresh_from_db()
    assert request.status == "refused"
    assert _clock(grievance, "repair_medium").due_at == clock.due_at


def test_nobody_decides_their_own_request(flow: Any) -> None:
    # Office staff handling a grievance themselves ask for time: a colleague decides.
    _grievance, clock = _leak_in_hands(flow)
    request = services.deadline_extension_request(
        clock=clock, actor=flow.staff, reason="等业主", now=flow.tick(), extra_days=2
    )
    with pytest.raises(PermissionDenied):
        services.deadline_extension_decide(
            extension=request, actor=flow.staff, approve=True, now=flow.tick()
        )
    request.refresh_from_db()
    assert request.status == "pending"
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        DeadlineExtension.objects.filter(pk=request.pk).update(
            status="approved", decided_by=flow.staff
        )


def test_the_handler_cannot_decide(flow: Any) -> None:
    _grievance, clock = _leak_in_hands(flow)
    request = services.deadline_extension_request(
        clock=clock, actor=flow.property_staff, reason="等", now=flow.tick(), extra_days=1
    )
    with pytest.raises(PermissionDenied):
        services.deadline_extension_decide(
            extension=request, actor=flow.property_staff, approve=True, now=flow.tick()
        )


def test_at_most_two_extensions_per_clock(flow: Any, settings: Any) -> None:
    _grievance, clock = _leak_in_hands(flow)
    for _round in range(2):
        request = services.deadline_extension_request(
            clock=clock, actor=flow.property_staff, reason="还要等", now=flow.tick(), extra_days=1
        )
        services.deadline_extension_decide(
            extension=request, actor=flow.staff, approve=True, now=flow.tick()
        )
    with pytest.raises(ValidationError) as caught:
        services.deadline_extension_request(
            clock=clock, actor=flow.property_staff, reason="再等", now=flow.tick(), extra_days=1
        )
    assert caught.value.code == "extension_cap"
    settings.LINLI_GRIEVANCE_MAX_EXTENSIONS = 3
    services.deadline_extension_request(
        clock=clock, actor=flow.property_staff, reason="再等", now=flow.tick(), extra_days=1
    )


def test_one_pending_request_per_clock(flow: Any) -> None:
    _grievance, clock = _leak_in_hands(flow)
    services.deadline_extension_request(
        clock=clock, actor=flow.property_staff, reason="等", now=flow.tick(), extra_minutes=30
    )
    with pytest.raises(ValidationError) as caught:
        services.deadline_extension_request(
            clock=clock, actor=flow.property_staff, reason="等", now=flow.tick(), extra_days=1
        )
    assert caught.value.code == "extension_pending"


def test_a_stopped_clock_cannot_be_extended(flow: Any) -> None:
    grievance = flow.on_site()
    with pytest.raises(ValidationError) as caught:
        services.deadline_extension_request(
            clock=_clock(grievance, "arrive"),
            actor=flow.property_staff,
            reason="晚了",
            now=flow.tick(),
            extra_minutes=10,
        )
    assert caught.value.code == "clock_stopped"


def test_the_steward_is_someone_of_the_community(flow: Any) -> None:
    grievance = flow.accepted()
    with pytest.raises(ValidationError):
        services.grievance_steward_set(
            grievance=grievance,
            steward=flow.world.other_resident,
            actor=flow.staff,
            now=flow.tick(),
        )
    services.grievance_steward_set(
        grievance=grievance, steward=flow.world.resident_b, actor=flow.staff, now=flow.tick()
    )
    grievance.refresh_from_db()
    assert grievance.steward == flow.world.resident_b


def test_a_plan_is_for_work_in_hand(flow: Any) -> None:
    grievance = flow.accepted()
    with pytest.raises(ValidationError) as caught:
        services.grievance_plan_submit(
            grievance=grievance,
            actor=flow.staff,
            plan="先看看",
            plan_due=dt.date(2026, 3, 10),
            now=flow.tick(),
        )
    assert caught.value.code == "not_in_hands"
