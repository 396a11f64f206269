"""Closing the loop: the verdict, reopening, closing by itself, steward points, cost shares."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Notification
from community.tests.factories import ResidentFactory, UserFactory
from credit.models import PointsEntry
from credit.services import standard_install
from grievances import services
from grievances.models import (
    CostShare,
    CostShareLine,
    Dispatch,
    Grievance,
    Rating,
    SlaClock,
    TimelineEvent,
)

pytestmark = pytest.mark.django_db
Status = Grievance.Status
DAY = dt.timedelta(days=1)


def test_solved_closes_the_grievance(flow: Any) -> None:
    grievance = flow.resolved()
    rating = services.grievance_rate(
        grievance=grievance,
        actor=flow.resident,
        solved=True,
        stars=5,
        comment="师傅很负责",
        now=flow.tick(),
    )
    grievance.refresh_from_db()
    assert grievance.status == Status.CLOSED and grievance.closed_at == flow.now
    assert (rating.round, rating.stars, rating.automatic) == (0, 5, False)
    assert TimelineEvent.objects.filter(grievance=grievance, kind="rated").exists()


def test_not_solved_reopens_and_goes_back_to_the_same_handler(flow: Any) -> None:
    grievance = flow.resolved()
    services.grievance_rate(
        grievance=grievance,
        actor=flow.resident,
        solved=False,
        stars=1,
        comment="灯还是不亮",
        now=flow.tick(),
    )
    grievance.refresh_from_db()
    assert grievance.status == Status.DISPATCHED
    assert grievance.reopen_count == 1 and grievance.resolved_at is None
    assert grievance.handler_organization is None  # until they accept again
    dispatches = list(Dispatch.objects.filter(grievance=grievance).order_by("id"))
    assert [d.status for d in dispatches] == ["completed", "pending"]
    assert dispatches[1].organization == flow.world.property_company
    moves = list(
        TimelineEvent.objects.filter(grievance=grievance, kind__in=["reopened", "dispatched"])
        .order_by("id")
        .values_list("old_value", "new_value")
    )
    assert moves[-2:] == [("resolved", "reopened"), ("reopened", "dispatched")]
    assert Notification.objects.filter(
        user=flow.property_staff, ref=f"grievance-dispatch:{dispatches[1].pk}"
    ).exists()
    # The second round: accepted again, new clocks, resolved, rated for round 1.
    services.dispatch_accept(dispatch=dispatches[1], actor=flow.property_staff, now=flow.tick())
    running = SlaClock.objects.filter(grievance=grievance, state="running")
    assert sorted(running.values_list("kind", flat=True)) == ["arrive", "resolve"]
    from grievances.tests.factories import photo_upload

    services.grievance_resolve(
        grievance=grievance,
        actor=flow.property_staff,
        note="换了线路",
        now=flow.tick(),
        photos=[photo_upload()],
    )
    second = services.grievance_rate(
        grievance=grievance, actor=flow.resident, solved=True, stars=4, now=flow.tick()
    )
    assert second.round == 1


def test_reopening_what_the_office_answered_stays_on_its_desk(flow: Any) -> None:
    grievance = flow.accepted(category=flow.categories.suggestion)
    services.grievance_resolve(
        grievance=grievance, actor=flow.staff, note="已答复", now=flow.tick()
    )
    services.grievance_rate(
        grievance=grievance, actor=flow.resident, solved=False, stars=2, now=flow.tick()
    )
    grievance.refresh_from_db()
    assert grievance.status == Status.REOPENED
    assert Notification.objects.filter(user=flow.staff, kind="grievance.reopened").exists()


def test_someone_of_the_household_may_answer(flow: Any) -> None:
    spouse_user = UserFactory()
    ResidentFactory(household=flow.world.household_a, user=spouse_user)
    grievance = flow.resolved()
    services.grievance_rate(
        grievance=grievance, actor=spouse_user, solved=True, stars=4, now=flow.tick()
    )
    grievance.refresh_from_db()
    assert grievance.status == Status.CLOSED


def test_others_may_not_answer(flow: Any, outsider: Any, grid_worker: Any) -> None:
    neighbour = UserFactory()
    flow.world.resident_b.user = neighbour
    flow.world.resident_b.save(update_fields=["user"])
    grievance = flow.resolved()
    for user in (outsider, grid_worker, neighbour, flow.property_staff, flow.staff):
        with pytest.raises(PermissionDenied):
            services.grievance_rate(
                grievance=grievance, actor=user, solved=True, stars=5, now=flow.tick()
            )
    assert not Rating.objects.exists()


def test_the_hotline_answers_on_the_reporters_behalf(flow: Any) -> None:
    grievance = flow.resolved()
    with pytest.raises(ValidationError):
        services.grievance_rate(
            grievance=grievance,
            actor=flow.staff,
            solved=True,
            stars=5,
            now=flow.tick(),
            on_behalf_of=flow.world.resident_b,
        )
    services.grievance_rate(
        grievance=grievance,
        actor=flow.staff,
        solved=True,
        stars=5,
        now=flow.tick(),
        on_behalf_of=flow.world.resident_a,
    )
    line = TimelineEvent.objects.get(grievance=grievance, kind="rated")
    assert line.actor == flow.staff and line.on_behalf_of == flow.world.resident_a


@pytest.mark.parametrize("stars", [0, 6, None, "5"])
def test_stars_are_one_to_five(flow: Any, stars: Any) -> None:
    grievance = flow.resolved()
    with pytest.raises(ValidationError):
        services.grievance_rate(
            grievance=grievance, actor=flow.resident, solved=True, stars=stars, now=flow.tick()
        )


def test_no_answer_in_three_days_closes_it_by_itself_once(flow: Any) -> None:
    grievance = flow.resolved()
    fresh = flow.resolved()
    resolved_at = grievance.resolved_at
    assert resolved_at is not None
    Grievance.objects.filter(pk=fresh.pk).update(resolved_at=resolved_at + DAY)
    assert services.grievances_autoclose(now=resolved_at + 3 * DAY - dt.timedelta(seconds=1)) == 0
    closed = services.grievances_autoclose(now=resolved_at + 3 * DAY, batch_size=1)
    assert closed == 1
    grievance.refresh_from_db()
    assert grievance.status == Status.CLOSED
    rating = Rating.objects.get(grievance=grievance)
    assert rating.automatic and rating.rated_by is None and rating.stars is None
    assert services.grievances_autoclose(now=resolved_at + 3 * DAY) == 0
    assert Grievance.objects.get(pk=fresh.pk).status == Status.RESOLVED


def test_autoclose_walks_every_batch(flow: Any) -> None:
    made = [flow.resolved() for _ in range(3)]
    assert services.grievances_autoclose(now=flow.now + 4 * DAY, batch_size=2) == 3
    assert {g.status for g in Grievance.objects.filter(pk__in=[g.pk for g in made])} == {
        Status.CLOSED
    }


# --- steward points ------------------------------------------------------------------------


def _with_steward(flow: Any) -> Grievance:
    standard_install(street=flow.world.street, valid_from=dt.date(2026, 1, 1))
    grievance = flow.accepted(category=flow.categories.dispute, title="楼上漏水到楼下")
    services.grievance_steward_set(
        grievance=grievance, steward=flow.world.resident_b, actor=flow.staff, now=flow.tick()
    )
    services.grievance_dispatch(
        grievance=grievance, actor=flow.staff, now=flow.tick(), assignee=flow.staff
    )
    dispatch = Dispatch.objects.get(grievance=grievance, status="pending")
    services.dispatch_accept(dispatch=dispatch, actor=flow.staff, now=flow.tick())
    from grievances.tests.factories import photo_upload

    services.grievance_resolve(
        grievance=grievance,
        actor=flow.staff,
        note="双方达成调解协议",
        now=flow.tick(),
        photos=[photo_upload()],
    )
    return grievance


def test_a_satisfied_closure_awards_the_steward_once(flow: Any) -> None:
    grievance = _with_steward(flow)
    services.grievance_rate(
        grievance=grievance, actor=flow.resident, solved=True, stars=5, now=flow.tick()
    )
    entry = PointsEntry.objects.get(idempotency_key=f"grievance-steward:{grievance.pk}:0")
    assert entry.amount == 10 and entry.credit_account.resident == flow.world.resident_b
    assert entry.rule.code == "mediation-lead"


def test_a_lukewarm_or_automatic_closure_awards_nothing(flow: Any) -> None:
    grievance = _with_steward(flow)
    services.grievance_rate(
        grievance=grievance, actor=flow.resident, solved=True, stars=3, now=flow.tick()
    )
    other = _with_steward(flow)
    services.grievances_autoclose(now=flow.now + 4 * DAY)
    other.refresh_from_db()
    assert other.status == Status.CLOSED
    assert not PointsEntry.objects.filter(idempotency_key__startswith="grievance-steward").exists()


def test_without_a_scoring_rule_the_closure_still_happens(flow: Any) -> None:
    grievance = _with_steward(flow)
    from credit.models import ScoringRule

    ScoringRule.objects.filter(code="mediation-lead").update(is_current=False)
    services.grievance_rate(
        grievance=grievance, actor=flow.resident, solved=True, stars=5, now=flow.tick()
    )
    grievance.refresh_from_db()
    assert grievance.status == Status.CLOSED
    assert not PointsEntry.objects.filter(idempotency_key__startswith="grievance-steward").exists()
    # The office reads why, on an internal line of the closing that names the steward.
    assert TimelineEvent.objects.filter(
        grievance=grievance,
        kind="note",
        is_public=False,
        at=flow.now,
        note__contains=flow.world.resident_b.name,
    ).exists()


# --- cost sharing ---------------------------------------------------------------------------


def test_a_cost_share_is_split_paid_and_settled(flow: Any) -> None:
    world = flow.world
    grievance = flow.resolved()
    share = services.cost_share_create(
        grievance=grievance,
        description="疏通化粪池",
        total="300",
        shares={world.household_a: "150.00", world.household_b.pk: Decimal("150")},
        actor=flow.staff,
        now=flow.tick(),
    )
    lines = list(CostShareLine.objects.filter(cost_share=share).order_by("household_id"))
    assert [line.amount for line in lines] == [Decimal("150.00")] * 2
    services.cost_share_line_pay(line=lines[0], actor=flow.staff, now=flow.tick())
    share.refresh_from_db()
    assert share.settled_at is None
    with pytest.raises(ValidationError):
        services.cost_share_line_pay(line=lines[0], actor=flow.staff, now=flow.tick())
    services.cost_share_line_pay(line=lines[1], actor=flow.staff, now=flow.tick())
    share.refresh_from_db()
    assert share.settled_at == flow.now
    notes = TimelineEvent.objects.filter(grievance=grievance, kind="cost_share")
    assert notes.count() == 4  # created, two payments, settled


def test_shares_must_add_up_and_stay_in_the_community(flow: Any) -> None:
    world = flow.world
    grievance = flow.resolved()
    with pytest.raises(ValidationError) as caught:
        services.cost_share_create(
            grievance=grievance,
            description="疏通化粪池",
            total=300,
            shares={world.household_a: 100, world.household_b: 100},
            actor=flow.staff,
            now=flow.tick(),
        )
    assert caught.value.code == "shares_sum"
    with pytest.raises(ValidationError) as caught:
        services.cost_share_create(
            grievance=grievance,
            description="疏通化粪池",
            total=300,
            shares={world.household_a: 150, world.other_household: 150},
            actor=flow.staff,
            now=flow.tick(),
        )
    assert caught.value.code == "shares_household"
    with pytest.raises(ValidationError):
        services.cost_share_create(
            grievance=grievance,
            description="疏通化粪池",
            total=300,
            shares={world.household_a: 350, world.household_b: -50},
            actor=flow.staff,
            now=flow.tick(),
        )
    assert not CostShare.objects.exists()


def test_only_the_office_shares_costs(flow: Any) -> None:
    grievance = flow.resolved()
    with pytest.raises(PermissionDenied):
        services.cost_share_create(
            grievance=grievance,
            description="疏通",
            total=100,
            shares={flow.world.household_a: 100},
            actor=flow.property_staff,
            now=flow.tick(),
        )


def test_the_periodic_task_closes_what_waited_too_long(flow: Any, settings: Any) -> None:
    from grievances.tasks import grievances_autoclose_task

    grievance = flow.resolved()  # resolved in March; the task runs with the real clock
    entry = settings.LINLI_PERIODIC_TASKS["grievances-autoclose"]
    assert entry["task"] == "grievances.tasks.grievances_autoclose_task"
    assert grievances_autoclose_task.apply().get() == 1
    grievance.refresh_from_db()
    assert grievance.status == Status.CLOSED
