"""Manual awards and deductions with maker-checker, the appeal window, and appeals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from credit.models import Appeal, PointsAccount, PointsEntry, PointsRequest, ScoringRule
from credit.services.ledger import points_award
from credit.services.reconciliation import ledger_reconciliation
from credit.services.requests import (
    appeal_decide,
    appeal_submit,
    deductions_apply_due,
    points_request_approve,
    points_request_create,
    points_request_reject,
)
from credit.tasks import deductions_apply_due_task
from credit.tests.factories import ScoringRuleFactory
from tests.concurrency import together

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 6, 2, 0, tzinfo=dt.UTC)
Status = PointsRequest.Status


@contextmanager
def refused(exception: type[Exception] = ValidationError) -> Iterator[Any]:
    """Expect a service to refuse. Entry points are durable: on failure their own
    transaction (a savepoint inside the test's) rolls back, the test's stays usable."""
    with pytest.raises(exception) as exc:
        yield exc


@pytest.fixture
def checker(world: Any) -> Any:
    """A second member of staff of `home`: the checker."""
    user = UserFactory(name="陈主任")
    MembershipFactory(user=user, role=Membership.Role.COMMUNITY_ADMIN, community=world.home)
    return user


def award_rule(world: Any, **kwargs: Any) -> ScoringRule:
    defaults: dict[str, Any] = {
        "street": world.street,
        "name": "带头化解纠纷",
        "code": "mediation-lead",
        "category": ScoringRule.Category.NEIGHBOURLINESS,
        "points": 10,
        "unit": ScoringRule.Unit.EVENT,
        "evidence": ScoringRule.Evidence.STAFF_NOTE,
        "awarder_roles": ["community_staff", "community_admin"],
    }
    rule: ScoringRule = ScoringRuleFactory.create(**{**defaults, **kwargs})
    return rule


def deduction_rule(world: Any, **kwargs: Any) -> ScoringRule:
    defaults: dict[str, Any] = {
        "street": world.street,
        "name": "楼道堆物",
        "code": "corridor-clutter",
        "category": ScoringRule.Category.MISCONDUCT,
        "points": -5,
        "unit": ScoringRule.Unit.EVENT,
        "evidence": ScoringRule.Evidence.PHOTO,
        "awarder_roles": ["community_staff", "community_admin"],
    }
    rule: ScoringRule = ScoringRuleFactory.create(**{**defaults, **kwargs})
    return rule


def ask(world: Any, actor: Any, rule: ScoringRule, **kwargs: Any) -> PointsRequest:
    values: dict[str, Any] = {
        "actor": actor,
        "resident": world.resident_a,
        "rule": rule,
        "quantity": 1,
        "reason": "调解3号楼漏水纠纷",
        "evidence_note": "调解记录 2026-11-05",
        "now": NOW,
    }
    return points_request_create(**{**values, **kwargs})


def balance(world: Any) -> int:
    account = PointsAccount.objects.filter(resident=world.resident_a).first()
    return account.balance if account else 0


def fund(world: Any, points: int = 50) -> None:
    rule = ScoringRuleFactory(street=world.street, points=points, unit="event", code="seed")
    points_award(resident=world.resident_a, rule=rule, key="seed", now=NOW)


def notified_deduction(world: Any, staff: Any, checker: Any) -> PointsRequest:
    request = ask(world, staff, deduction_rule(world), reason="楼道堆放杂物")
    return points_request_approve(request=request, actor=checker, now=NOW)


# --- maker-checker ------------------------------------------------------------------------


def test_approved_award_is_applied_once_with_its_request_as_source(
    world: Any, staff: Any, checker: Any
) -> None:
    request = ask(world, staff, award_rule(world))
    assert request.kind == PointsRequest.Kind.AWARD
    assert request.status == Status.PENDING
    points_request_approve(request=request, actor=checker, now=NOW, note="属实")
    request.refresh_from_db()
    assert request.status == Status.APPLIED
    assert request.decided_by == checker
    assert request.entry is not None
    assert request.entry.idempotency_key == f"points-request:{request.pk}"
    assert balance(world) == 10
    with refused():
        points_request_approve(request=request, actor=checker, now=NOW)
    assert PointsEntry.objects.filter(kind="award").count() == 1
    assert balance(world) == 10


def test_approved_award_records_the_checker_and_points_at_the_makers_request(
    world: Any, staff: Any, checker: Any
) -> None:
    request = points_request_approve(
        request=ask(world, staff, award_rule(world)), actor=checker, now=NOW
    )
    entry = PointsEntry.objects.get(pk=request.entry_id)
    assert entry.actor == checker
    assert (entry.source_type.model, entry.source_id) == ("pointsrequest", str(request.pk))
    assert request.requested_by == staff


def test_a_checker_approves_a_rule_whose_awarder_role_only_the_maker_has(
    world: Any, grid_worker: Any, checker: Any
) -> None:
    """The grid worker may award this rule, the office admin may not award it directly;
    the admin decides the grid worker's request all the same and is recorded as actor."""
    rule = award_rule(world, code="neighbour-help", awarder_roles=["grid_worker"])
    with refused(PermissionDenied), transaction.atomic():
        points_award(resident=world.resident_a, rule=rule, key="direct", now=NOW, actor=checker)
    request = points_request_approve(request=ask(world, grid_worker, rule), actor=checker, now=NOW)
    assert request.status == Status.APPLIED
    assert request.entry.actor == checker
    assert balance(world) == 10


# --- the maker's idempotency key -------------------------------------------------------


def test_asking_again_with_the_same_key_returns_the_first_request(world: Any, staff: Any) -> None:
    rule = award_rule(world)
    first = ask(world, staff, rule, key="req-1")
    again = ask(world, staff, rule, key=" req-1 ")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.pk == first.pk
    assert PointsRequest.objects.count() == 1
    assert PointsRequest.history.filter(id=first.pk).count() == 1  # nothing changed


def test_a_key_used_for_another_request_is_refused(world: Any, staff: Any) -> None:
    rule = award_rule(world)
    ask(world, staff, rule, key="req-1")
    for changed in ({"quantity": 2}, {"reason": "另一件事"}, {"resident": world.resident_b}):
        with refused() as exc:
            ask(world, staff, rule, key="req-1", **changed)
        assert exc.value.code == "key_reused"
    assert PointsRequest.objects.count() == 1


def test_keys_belong_to_their_maker(world: Any, staff: Any, checker: Any) -> None:
    rule = award_rule(world)
    mine, theirs = ask(world, staff, rule, key="k"), ask(world, checker, rule, key="k")
    assert mine.pk != theirs.pk and not theirs.replayed


def test_a_blank_or_overlong_key_is_refused(world: Any, staff: Any) -> None:
    for key in ("", "   ", "k" * 101):
        with refused() as exc:
            ask(world, staff, award_rule(world, code=f"r{len(key)}"), key=key)
        assert exc.value.code == "key"
    assert not PointsRequest.objects.exists()


def test_maker_cannot_approve_their_own_request(world: Any, staff: Any, checker: Any) -> None:
    request = ask(world, staff, award_rule(world))
    with refused(PermissionDenied) as exc:
        points_request_approve(request=request, actor=staff, now=NOW)
    assert "其他工作人员审批" in str(exc.value)
    with refused(PermissionDenied):
        points_request_reject(request=request, actor=staff, now=NOW, note="撤回")
    request.refresh_from_db()
    assert request.status == Status.PENDING
    assert balance(world) == 0


def test_database_refuses_a_request_decided_by_its_maker(world: Any, staff: Any) -> None:
    request = ask(world, staff, award_rule(world))
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsRequest.objects.filter(pk=request.pk).update(decided_by=staff)


def test_only_office_staff_of_the_community_decide(
    world: Any, staff: Any, grid_worker: Any, street_supervisor: Any
) -> None:
    request = ask(world, staff, award_rule(world))
    other_office = UserFactory()
    MembershipFactory(
        user=other_office, role=Membership.Role.COMMUNITY_STAFF, community=world.other
    )
    for actor in (grid_worker, street_supervisor, other_office):
        with refused(PermissionDenied):
            points_request_approve(request=request, actor=actor, now=NOW)


def test_rejection_needs_a_note_and_is_final(world: Any, staff: Any, checker: Any) -> None:
    request = ask(world, staff, award_rule(world))
    with refused():
        points_request_reject(request=request, actor=checker, now=NOW, note=" ")
    points_request_reject(request=request, actor=checker, now=NOW, note="证据不足")
    request.refresh_from_db()
    assert (request.status, request.decision_note) == (Status.REJECTED, "证据不足")
    with refused():
        points_request_approve(request=request, actor=checker, now=NOW)
    assert balance(world) == 0


def test_status_changes_are_recorded_in_history_with_who_acted(
    world: Any, staff: Any, checker: Any
) -> None:
    request = ask(world, staff, award_rule(world))
    points_request_approve(request=request, actor=checker, now=NOW)
    latest = request.history.order_by("-history_id").first()
    assert latest.status == Status.APPLIED
    assert latest.history_user == checker


# --- who may ask, and what ------------------------------------------------------------


def test_a_misconduct_rule_makes_a_deduction_request(world: Any, staff: Any) -> None:
    request = ask(world, staff, deduction_rule(world))
    assert request.kind == PointsRequest.Kind.DEDUCTION
    assert request.community == world.home


def test_grid_worker_may_ask_only_for_rules_naming_their_role(world: Any, grid_worker: Any) -> None:
    allowed = award_rule(world, code="neighbour-help", awarder_roles=["grid_worker"])
    assert ask(world, grid_worker, allowed).requested_by == grid_worker
    with refused(PermissionDenied):
        ask(world, grid_worker, award_rule(world))


def test_outsiders_and_other_communities_staff_may_not_ask(
    world: Any, outsider: Any, resident: Any
) -> None:
    other_office = UserFactory()
    MembershipFactory(
        user=other_office, role=Membership.Role.COMMUNITY_STAFF, community=world.other
    )
    rule = award_rule(world)
    for actor in (outsider, resident, other_office):
        with refused(PermissionDenied):
            ask(world, actor, rule)


def test_evidence_and_reason_are_required(world: Any, staff: Any) -> None:
    with refused() as exc:
        ask(world, staff, deduction_rule(world), evidence_note="")
    assert exc.value.code == "evidence"
    with refused() as exc:
        ask(world, staff, award_rule(world), reason="  ")
    assert exc.value.code == "reason"
    no_evidence = award_rule(world, code="x", evidence=ScoringRule.Evidence.NONE)
    assert ask(world, staff, no_evidence, evidence_note="").pk


def test_a_street_default_overridden_by_the_community_is_refused(world: Any, staff: Any) -> None:
    street_default = award_rule(world)
    award_rule(world, community=world.home, points=12)
    with refused() as exc:
        ask(world, staff, street_default)
    assert exc.value.code == "rule"


# --- deductions: notice and appeal window -------------------------------------------------


def test_approved_deduction_is_notified_with_a_deadline_and_not_yet_counted(
    world: Any, staff: Any, checker: Any, settings: Any
) -> None:
    settings.LINLI_APPEAL_DAYS = 5
    fund(world)
    request = notified_deduction(world, staff, checker)
    request.refresh_from_db()
    assert request.status == Status.NOTIFIED
    assert request.appeal_deadline == NOW + dt.timedelta(days=5)
    assert request.decision_note  # the notice to the resident is recorded
    assert request.entry is None
    assert balance(world) == 50


def test_appeal_window_defaults_to_seven_days(world: Any, staff: Any, checker: Any) -> None:
    request = notified_deduction(world, staff, checker)
    assert request.appeal_deadline == NOW + dt.timedelta(days=7)


def test_due_deductions_are_applied_once_even_when_the_sweep_runs_twice(
    world: Any, staff: Any, checker: Any
) -> None:
    fund(world)
    request = notified_deduction(world, staff, checker)
    assert deductions_apply_due(now=NOW + dt.timedelta(days=6)) == 0
    after = NOW + dt.timedelta(days=7, seconds=1)
    assert deductions_apply_due(now=after) == 1
    assert deductions_apply_due(now=after) == 0
    request.refresh_from_db()
    assert request.status == Status.APPLIED
    assert request.entry is not None
    assert request.entry.idempotency_key == f"deduction:{request.pk}"
    assert balance(world) == 45
    assert PointsEntry.objects.filter(kind="deduction").count() == 1
    assert ledger_reconciliation().ok


def test_the_task_applies_due_deductions(world: Any, staff: Any, checker: Any) -> None:
    fund(world)
    request = ask(world, staff, deduction_rule(world))
    points_request_approve(request=request, actor=checker, now=NOW - dt.timedelta(days=30))
    assert deductions_apply_due_task.apply(kwargs={}).get() == 1
    assert balance(world) == 45


def test_appeal_after_the_deadline_is_refused(
    world: Any, staff: Any, checker: Any, resident: Any
) -> None:
    request = notified_deduction(world, staff, checker)
    with refused() as exc:
        appeal_submit(
            request=request,
            resident_user=resident,
            text="不是我家的",
            now=NOW + dt.timedelta(days=7),
        )
    assert exc.value.code == "deadline"
    assert not Appeal.objects.exists()


def test_only_the_resident_concerned_may_appeal(
    world: Any, staff: Any, checker: Any, outsider: Any
) -> None:
    request = notified_deduction(world, staff, checker)
    with refused(PermissionDenied):
        appeal_submit(request=request, resident_user=outsider, text="x", now=NOW)
    with refused(PermissionDenied):
        appeal_submit(request=request, resident_user=staff, text="x", now=NOW)


def test_a_pending_deduction_cannot_be_appealed(world: Any, staff: Any, resident: Any) -> None:
    request = ask(world, staff, deduction_rule(world))
    with refused() as exc:
        appeal_submit(request=request, resident_user=resident, text="x", now=NOW)
    assert exc.value.code == "status"


def test_appealed_deduction_waits_for_the_decision(
    world: Any, staff: Any, checker: Any, resident: Any
) -> None:
    fund(world)
    request = notified_deduction(world, staff, checker)
    appeal = appeal_submit(request=request, resident_user=resident, text="杂物是邻居的", now=NOW)
    request.refresh_from_db()
    assert request.status == Status.APPEALED
    assert appeal.status == Appeal.Status.OPEN
    assert deductions_apply_due(now=NOW + dt.timedelta(days=30)) == 0
    assert balance(world) == 50
    with refused():  # one appeal per deduction
        appeal_submit(request=request, resident_user=resident, text="再次", now=NOW)


def test_upheld_appeal_applies_the_deduction_with_reasons_kept(
    world: Any, staff: Any, checker: Any, resident: Any
) -> None:
    fund(world)
    request = notified_deduction(world, staff, checker)
    appeal = appeal_submit(request=request, resident_user=resident, text="杂物是邻居的", now=NOW)
    third = UserFactory()
    MembershipFactory(user=third, role=Membership.Role.COMMUNITY_STAFF, community=world.home)
    with refused():
        appeal_decide(appeal=appeal, actor=third, now=NOW, uphold=True, reasons="")
    appeal_decide(appeal=appeal, actor=third, now=NOW, uphold=True, reasons="照片显示为其家门口")
    appeal.refresh_from_db()
    request.refresh_from_db()
    assert appeal.status == Appeal.Status.UPHELD
    assert appeal.decision_reason == "照片显示为其家门口"
    assert appeal.decided_by == third
    assert request.status == Status.APPLIED
    assert request.entry is not None
    assert balance(world) == 45
    with refused():
        appeal_decide(appeal=appeal, actor=third, now=NOW, uphold=False, reasons="改判")
    assert deductions_apply_due(now=NOW + dt.timedelta(days=30)) == 0
    assert balance(world) == 45


def test_cancelled_appeal_never_deducts(
    world: Any, staff: Any, checker: Any, resident: Any
) -> None:
    fund(world)
    request = notified_deduction(world, staff, checker)
    appeal = appeal_submit(request=request, resident_user=resident, text="不是我", now=NOW)
    appeal_decide(appeal=appeal, actor=checker, now=NOW, uphold=False, reasons="核实有误")
    request.refresh_from_db()
    appeal.refresh_from_db()
    assert (request.status, appeal.status) == (Status.CANCELLED, Appeal.Status.CANCELLED)
    assert appeal.decision_reason == "核实有误"
    assert deductions_apply_due(now=NOW + dt.timedelta(days=30)) == 0
    assert balance(world) == 50
    assert not PointsEntry.objects.filter(kind="deduction").exists()


def test_the_maker_of_a_deduction_does_not_judge_its_appeal(
    world: Any, staff: Any, checker: Any, resident: Any
) -> None:
    request = notified_deduction(world, staff, checker)
    appeal = appeal_submit(request=request, resident_user=resident, text="不是我", now=NOW)
    with refused(PermissionDenied):
        appeal_decide(appeal=appeal, actor=staff, now=NOW, uphold=False, reasons="好")


def test_a_deduction_never_takes_the_balance_below_zero(
    world: Any, staff: Any, checker: Any
) -> None:
    request = notified_deduction(world, staff, checker)
    assert deductions_apply_due(now=NOW + dt.timedelta(days=8)) == 1
    request.refresh_from_db()
    assert request.status == Status.APPLIED
    assert request.entry is None
    assert balance(world) == 0


def test_a_swept_deduction_records_the_checker_who_approved_it(
    world: Any, staff: Any, checker: Any
) -> None:
    fund(world)
    request = notified_deduction(world, staff, checker)
    deductions_apply_due(now=NOW + dt.timedelta(days=8))
    request.refresh_from_db()
    assert request.entry is not None and request.entry.actor == checker


# --- concurrency (PostgreSQL) -------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_apply_an_award_once(
    require_postgres: None, world: Any, staff: Any, checker: Any
) -> None:
    request = ask(world, staff, award_rule(world))
    results, errors = together(
        8, lambda i: points_request_approve(request=request, actor=checker, now=NOW)
    )
    assert len(results) == 1
    assert len(errors) == 7
    assert all(isinstance(e, ValidationError) for e in errors)
    assert balance(world) == 10


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_and_an_appeal_apply_each_deduction_at_most_once(
    require_postgres: None, world: Any, staff: Any, checker: Any
) -> None:
    fund(world, 100)
    rule = deduction_rule(world)
    for _ in range(5):
        req = ask(world, staff, rule)
        points_request_approve(request=req, actor=checker, now=NOW - dt.timedelta(days=8))
    results, errors = together(6, lambda i: deductions_apply_due(now=NOW))
    assert errors == []
    assert sum(results) == 5
    assert balance(world) == 75
    assert PointsEntry.objects.filter(kind="deduction").count() == 5
    assert ledger_reconciliation().ok


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_same_key_twenty_times_at_once_asks_once(
    require_postgres: None, world: Any, staff: Any
) -> None:
    rule = award_rule(world)
    results, errors = together(20, lambda i: ask(world, staff, rule, key="retry-storm"))
    assert errors == []
    assert len({request.pk for request in results}) == 1
    assert sorted(request.replayed for request in results) == [False] + [True] * 19
    assert PointsRequest.objects.filter(idempotency_key="retry-storm").count() == 1
