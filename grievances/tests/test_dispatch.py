"""The office's desk (accept, reject, dispatch, bulk) and the receiver's answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Notification
from community.models import Membership, Organization
from community.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from grievances import selectors, services
from grievances.models import Category, Dispatch, Grievance, SlaClock, Tier, TimelineEvent
from grievances.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db
Status = Grievance.Status
DStatus = Dispatch.Status


def _partner(world: Any) -> tuple[Any, Any]:
    unit = OrganizationFactory(kind=Organization.Kind.PARTNER_UNIT, name="供电服务中心")
    user = UserFactory(name="吴干部")
    MembershipFactory(user=user, role=Membership.Role.PARTNER_STAFF, organization=unit)
    return unit, user


def test_office_accepts_and_rejects_with_a_reason(flow: Any) -> None:
    grievance = flow.accepted()
    assert grievance.status == Status.ACCEPTED and grievance.accepted_at == flow.now
    other = flow.file()
    with pytest.raises(ValidationError):
        services.grievance_reject(grievance=other, actor=flow.staff, reason=" ", now=flow.tick())
    services.grievance_reject(grievance=other, actor=flow.staff, reason="属于市政", now=flow.tick())
    other.refresh_from_db()
    assert other.status == Status.REJECTED and other.rejection_reason == "属于市政"
    line = TimelineEvent.objects.get(grievance=other, new_value=Status.REJECTED)
    assert line.is_public and line.note == "属于市政"


def test_only_the_office_accepts(flow: Any, grid_worker: Any, street_supervisor: Any) -> None:
    grievance = flow.file()
    for user in (grid_worker, street_supervisor, flow.property_staff, flow.resident):
        with pytest.raises(PermissionDenied):
            services.grievance_accept(grievance=grievance, actor=user, now=flow.tick())
    grievance.refresh_from_db()
    assert grievance.status == Status.SUBMITTED


def test_the_default_receiver_follows_the_category(flow: Any, office_org: Any) -> None:
    lamp = flow.file()
    assert selectors.grievance_default_receiver(grievance=lamp) == flow.world.property_company
    dispute = flow.file(category=flow.categories.dispute)
    assert selectors.grievance_default_receiver(grievance=dispute) == office_org
    unit, _user = _partner(flow.world)
    lights = CategoryFactory(
        default_handler=Category.Handler.ORGANIZATION, default_organization=unit
    )
    assert selectors.grievance_default_receiver(grievance=flow.file(category=lights)) == unit


def test_an_estate_without_a_property_company_falls_back_to_the_office(
    flow: Any, office_org: Any
) -> None:
    world = flow.world
    world.estate.property_company = None
    world.estate.save(update_fields=["property_company"])
    grievance = flow.file()
    assert selectors.grievance_default_receiver(grievance=grievance) == office_org


def test_dispatching_a_submitted_grievance_accepts_it_on_the_way(flow: Any) -> None:
    grievance = flow.file()
    dispatch = services.grievance_dispatch(grievance=grievance, actor=flow.staff, now=flow.tick())
    grievance.refresh_from_db()
    assert grievance.status == Status.DISPATCHED
    assert dispatch.organization == flow.world.property_company  # the default receiver
    assert dispatch.status == DStatus.PENDING and dispatch.dispatched_by == flow.staff
    moves = list(
        TimelineEvent.objects.filter(grievance=grievance, kind__in=["status", "dispatched"])
        .order_by("id")
        .values_list("old_value", "new_value")
    )
    assert moves == [("submitted", "accepted"), ("accepted", "dispatched")]
    # The receiver is told, and the message opens the grievance's page.
    note = Notification.objects.get(
        user=flow.property_staff, ref=f"grievance-dispatch:{dispatch.pk}"
    )
    assert note.link == f"/grievances/{grievance.pk}/"


def test_a_merchant_is_not_a_receiver(flow: Any) -> None:
    shop = OrganizationFactory(kind=Organization.Kind.MERCHANT, name="便利店")
    grievance = flow.accepted()
    with pytest.raises(ValidationError):
        services.grievance_dispatch(
            grievance=grievance, actor=flow.staff, now=flow.tick(), organization=shop
        )
    grievance.refresh_from_db()
    assert grievance.status == Status.ACCEPTED and not grievance.dispatches.exists()


def test_the_receiver_accepts_becomes_handler_and_the_1715_clocks_start(flow: Any) -> None:
    grievance, dispatch = flow.dispatched()
    assert not SlaClock.objects.filter(grievance=grievance).exists()
    services.dispatch_accept(dispatch=dispatch, actor=flow.property_staff, now=flow.tick())
    grievance.refresh_from_db()
    dispatch.refresh_from_db()
    assert dispatch.status == DStatus.ACCEPTED and dispatch.decided_by == flow.property_staff
    assert grievance.handler_organization == flow.world.property_company
    assert grievance.handler_user == flow.property_staff
    clocks = dict(SlaClock.objects.filter(grievance=grievance).values_list("kind", "started_at"))
    assert clocks == {"arrive": flow.now, "resolve": flow.now}


def test_the_receiver_may_set_the_tier_before_the_clocks_start(flow: Any) -> None:
    grievance, dispatch = flow.dispatched(
        category=flow.categories.leak, attributes={"where": "pipe"}
    )
    services.dispatch_accept(
        dispatch=dispatch, actor=flow.property_staff, now=flow.tick(), tier=Tier.REPAIR_MEDIUM
    )
    grievance.refresh_from_db()
    assert grievance.tier == Tier.REPAIR_MEDIUM
    kinds = set(SlaClock.objects.filter(grievance=grievance).values_list("kind", flat=True))
    assert kinds == {"arrive", "repair_medium"}
    assert TimelineEvent.objects.filter(
        grievance=grievance, old_value="repair_minor", new_value="repair_medium"
    ).exists()


def test_nobody_else_may_answer_a_dispatch(flow: Any, grid_worker: Any, outsider: Any) -> None:
    _grievance, dispatch = flow.dispatched()
    _unit, partner_user = _partner(flow.world)
    for user in (grid_worker, outsider, partner_user, flow.resident):
        with pytest.raises(PermissionDenied):
            services.dispatch_accept(dispatch=dispatch, actor=user, now=flow.tick())
        with pytest.raises(PermissionDenied):
            services.dispatch_decline(
                dispatch=dispatch, actor=user, reason="不是我", now=flow.tick()
            )
    dispatch.refresh_from_db()
    assert dispatch.status == DStatus.PENDING


def test_the_office_may_accept_for_a_company_without_becoming_its_handler(flow: Any) -> None:
    grievance, dispatch = flow.dispatched()
    services.dispatch_accept(dispatch=dispatch, actor=flow.staff, now=flow.tick())
    grievance.refresh_from_db()
    assert grievance.handler_organization == flow.world.property_company
    assert grievance.handler_user is None


def test_a_person_dispatched_by_name_accepts(flow: Any) -> None:
    member = UserFactory(name="党员老陈")
    grievance = flow.accepted()
    dispatch = services.grievance_dispatch(
        grievance=grievance, actor=flow.staff, now=flow.tick(), assignee=member
    )
    services.dispatch_accept(dispatch=dispatch, actor=member, now=flow.tick())
    grievance.refresh_from_db()
    assert grievance.handler_user == member and grievance.handler_organization is None


def test_accepting_twice_is_refused(flow: Any) -> None:
    _grievance, dispatch = flow.taken()
    with pytest.raises(ValidationError) as caught:
        services.dispatch_accept(dispatch=dispatch, actor=flow.property_staff, now=flow.tick())
    assert caught.value.code == "dispatch_answered"


def test_declining_needs_a_reason_and_returns_the_grievance_to_the_office(flow: Any) -> None:
    grievance, dispatch = flow.dispatched()
    with pytest.raises(ValidationError):
        services.dispatch_decline(
            dispatch=dispatch, actor=flow.property_staff, reason="", now=flow.tick()
        )
    services.dispatch_decline(
        dispatch=dispatch, actor=flow.property_staff, reason="不在物业合同范围", now=flow.tick()
    )
    grievance.refresh_from_db()
    dispatch.refresh_from_db()
    assert grievance.status == Status.ACCEPTED
    assert dispatch.status == DStatus.DECLINED and dispatch.reason == "不在物业合同范围"
    line = TimelineEvent.objects.get(grievance=grievance, kind="dispatch_declined")
    assert not line.is_public
    assert Notification.objects.filter(user=flow.staff, kind="grievance.declined").exists()
    # Back on the desk: the office dispatches again.
    again = services.grievance_dispatch(
        grievance=grievance, actor=flow.staff, now=flow.tick(), assignee=flow.staff
    )
    assert again.status == DStatus.PENDING


def test_a_transfer_leaves_a_new_pending_dispatch(flow: Any) -> None:
    grievance, dispatch = flow.dispatched()
    unit, partner_user = _partner(flow.world)
    new = services.dispatch_transfer(
        dispatch=dispatch,
        actor=flow.property_staff,
        reason="属于供电部门",
        now=flow.tick(),
        organization=unit,
    )
    dispatch.refresh_from_db()
    grievance.refresh_from_db()
    assert dispatch.status == DStatus.TRANSFERRED and dispatch.reason == "属于供电部门"
    assert new.status == DStatus.PENDING and new.organization == unit
    assert grievance.status == Status.DISPATCHED
    with pytest.raises(PermissionDenied):  # no longer theirs
        services.dispatch_accept(dispatch=new, actor=flow.property_staff, now=flow.tick())
    services.dispatch_accept(dispatch=new, actor=partner_user, now=flow.tick())
    grievance.refresh_from_db()
    assert grievance.handler_organization == unit


def test_a_transfer_needs_a_reason_and_another_receiver(flow: Any) -> None:
    _grievance, dispatch = flow.dispatched()
    with pytest.raises(ValidationError):
        services.dispatch_transfer(
            dispatch=dispatch,
            actor=flow.property_staff,
            reason="",
            now=flow.tick(),
            organization=flow.world.property_company,
        )
    with pytest.raises(ValidationError) as caught:
        services.dispatch_transfer(
            dispatch=dispatch,
            actor=flow.property_staff,
            reason="转",
            now=flow.tick(),
            organization=flow.world.property_company,
        )
    assert caught.value.code == "transfer_same"


def test_an_accepted_dispatch_cannot_be_transferred_or_declined(flow: Any) -> None:
    _grievance, dispatch = flow.taken()
    with pytest.raises(ValidationError):
        services.dispatch_decline(
            dispatch=dispatch, actor=flow.property_staff, reason="不干了", now=flow.tick()
        )
    with pytest.raises(ValidationError):
        services.dispatch_transfer(
            dispatch=dispatch,
            actor=flow.property_staff,
            reason="转",
            now=flow.tick(),
            assignee=flow.staff,
        )


def test_withdrawing_after_acceptance_keeps_the_clocks_and_a_new_acceptance_adds_none(
    flow: Any,
) -> None:
    grievance, dispatch = flow.taken()
    services.dispatch_withdraw(
        dispatch=dispatch, actor=flow.staff, reason="改派给党员", now=flow.tick()
    )
    grievance.refresh_from_db()
    assert grievance.status == Status.ACCEPTED and grievance.handler_organization is None
    member = UserFactory()
    again = services.grievance_dispatch(
        grievance=grievance, actor=flow.staff, now=flow.tick(), assignee=member
    )
    services.dispatch_accept(dispatch=again, actor=member, now=flow.tick())
    running = SlaClock.objects.filter(grievance=grievance, state="running")
    assert sorted(running.values_list("kind", flat=True)) == ["arrive", "resolve"]


def test_only_the_office_withdraws(flow: Any) -> None:
    _grievance, dispatch = flow.dispatched()
    with pytest.raises(PermissionDenied):
        services.dispatch_withdraw(
            dispatch=dispatch, actor=flow.property_staff, reason="x", now=flow.tick()
        )


def test_bulk_accept_reports_each_failure_and_does_the_rest(flow: Any) -> None:
    first, second = flow.file(), flow.file()
    accepted = flow.accepted()
    result = services.grievances_bulk_accept(
        grievances=[first.pk, second, accepted, 2**40], actor=flow.staff, now=flow.tick()
    )
    assert result.done == [first.pk, second.pk]
    assert set(result.failed) == {accepted.pk, 2**40}
    assert Grievance.objects.get(pk=first.pk).status == Status.ACCEPTED


def test_bulk_dispatch_sends_each_to_its_default_handler(flow: Any, office_org: Any) -> None:
    lamp = flow.file()
    dispute = flow.accepted(category=flow.categories.dispute)
    result = services.grievances_bulk_dispatch(
        grievances=[lamp, dispute], actor=flow.staff, now=flow.tick()
    )
    assert result.done == [lamp.pk, dispute.pk] and not result.failed
    receivers = dict(Dispatch.objects.values_list("grievance_id", "organization_id"))
    assert receivers == {lamp.pk: flow.world.property_company.pk, dispute.pk: office_org.pk}


def test_bulk_by_someone_not_in_the_office_fails_every_item(flow: Any, grid_worker: Any) -> None:
    grievance = flow.file()
    result = services.grievances_bulk_accept(
        grievances=[grievance], actor=grid_worker, now=flow.tick()
    )
    assert result.done == [] and list(result.failed) == [grievance.pk]
