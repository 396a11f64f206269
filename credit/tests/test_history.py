"""Selectors of my points, the workbench lists and the points per resident (scoping)."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from community.models import Membership
from community.tests.factories import MembershipFactory, ResidentFactory, UserFactory
from credit import exports
from credit.models import PointsAccount, Redemption, ScoringRule, SupermarketItem
from credit.selectors import history as history_selectors
from credit.selectors import requests as selectors
from credit.services.ledger import points_award, points_reverse, points_spend
from credit.services.requests import points_request_approve, points_request_create
from credit.tests.factories import ScoringRuleFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 6, 2, 0, tzinfo=dt.UTC)


def _rule(world: Any, **kwargs: Any) -> ScoringRule:
    rule: ScoringRule = ScoringRuleFactory.create(street=world.street, unit="event", **kwargs)
    return rule


def seed_history(world: Any) -> dict[str, Any]:
    """resident_a: an award, a reversed award, a redemption; resident_b: an award."""
    volunteer = _rule(world, name="志愿服务", code="volunteer", points=20)
    patrol = _rule(world, name="治安巡逻", code="patrol", points=3)
    points_award(resident=world.resident_a, rule=volunteer, key="a1", now=NOW)
    wrong = points_award(resident=world.resident_a, rule=patrol, key="a2", now=NOW)
    reversal = points_reverse(entry=wrong, now=NOW, reason="重复登记")
    spend = points_spend(resident=world.resident_a, amount=5, key="buy:1", now=NOW)
    item = SupermarketItem.objects.create(community=world.home, name="洗衣液", points_price=5)
    Redemption.objects.create(
        community=world.home,
        resident=world.resident_a,
        item=item,
        points=5,
        pickup_code="ABC123",
        idempotency_key="buy:1",
        entry=spend,
        expires_at=NOW + dt.timedelta(days=7),
    )
    points_award(resident=world.resident_b, rule=volunteer, key="b1", now=NOW)
    return {"wrong": wrong, "reversal": reversal, "spend": spend}


def test_my_history_says_what_earned_or_spent_each_point(world: Any, resident: Any) -> None:
    seeded = seed_history(world)
    rows = history_selectors.history_page(entries=history_selectors.my_history(user=resident)).rows
    by_id = {row.id: row for row in rows}
    assert [row.delta for row in rows] == [-5, -3, 3, 20]  # newest first, signed
    assert by_id[seeded["spend"].pk].what == "兑换：洗衣液"
    assert by_id[seeded["spend"].pk].item_name == "洗衣液"
    assert by_id[seeded["wrong"].pk].what == "治安巡逻"
    assert by_id[seeded["wrong"].pk].rule_code == "patrol"
    assert by_id[seeded["wrong"].pk].reversed_by_id == seeded["reversal"].pk
    assert by_id[seeded["reversal"].pk].reverses_id == seeded["wrong"].pk
    assert "治安巡逻" in by_id[seeded["reversal"].pk].what
    assert by_id[seeded["reversal"].pk].reason == "重复登记"
    assert rows[-1].what == "志愿服务"


def test_history_rows_cost_one_query(
    world: Any, resident: Any, django_assert_num_queries: Any
) -> None:
    seed_history(world)
    entries = history_selectors.my_history(user=resident)
    with django_assert_num_queries(1):
        history_selectors.history_page(entries=entries)


def test_history_pages_by_keyset(world: Any, resident: Any) -> None:
    rule = _rule(world, points=1)
    for i in range(5):
        points_award(resident=world.resident_a, rule=rule, key=f"k{i}", now=NOW)
    entries = history_selectors.my_history(user=resident)
    first = history_selectors.history_page(entries=entries, size=3)
    assert len(first.rows) == 3 and first.next_before == first.rows[-1].id
    second = history_selectors.history_page(entries=entries, before=first.next_before, size=3)
    assert len(second.rows) == 2 and second.next_before is None


def test_a_resident_sees_only_their_own_history(world: Any, resident: Any) -> None:
    seed_history(world)
    # A household member's account is not theirs to read, neither is a neighbour's.
    spouse = ResidentFactory(household=world.household_a, name="张太太")
    points_award(resident=spouse, rule=_rule(world, points=4), key="s1", now=NOW)
    mine = history_selectors.my_history(user=resident)
    account = PointsAccount.objects.get(resident=world.resident_a)
    assert {e.pk for e in mine} == {
        e.pk for e in history_selectors.history_entries(account=account)
    }
    for other in (spouse, world.resident_b, world.other_resident):
        with pytest.raises(PointsAccount.DoesNotExist):
            history_selectors.resident_history(user=resident, resident_id=other.pk)


def test_staff_read_histories_in_scope_only(world: Any, staff: Any) -> None:
    seed_history(world)
    points_award(resident=world.other_resident, rule=_rule(world, points=1), key="o1", now=NOW)
    assert history_selectors.resident_history(user=staff, resident_id=world.resident_b.pk)
    with pytest.raises(PointsAccount.DoesNotExist):
        history_selectors.resident_history(user=staff, resident_id=world.other_resident.pk)


def test_outsider_has_no_points(world: Any, outsider: Any) -> None:
    seed_history(world)
    assert history_selectors.my_account(user=outsider) is None
    assert not history_selectors.my_history(user=outsider).exists()
    assert not selectors.my_deductions(user=outsider).exists()
    assert not selectors.request_list(user=outsider).exists()
    assert not selectors.points_per_resident(user=outsider).exists()


def _checker(world: Any) -> Any:
    user = UserFactory()
    MembershipFactory(user=user, role=Membership.Role.COMMUNITY_ADMIN, community=world.home)
    return user


def test_workbench_flags_my_own_requests_as_needing_another_person(world: Any, staff: Any) -> None:
    rule = _rule(world, points=5)
    checker = _checker(world)
    mine = points_request_create(
        actor=staff, resident=world.resident_a, rule=rule, quantity=1, reason="r", now=NOW
    )
    theirs = points_request_create(
        actor=checker, resident=world.resident_b, rule=rule, quantity=1, reason="r", now=NOW
    )
    flags = {r.pk: r.mine for r in selectors.workbench_pending_requests(user=staff)}
    assert flags == {mine.pk: True, theirs.pk: False}


def test_my_deductions_show_only_notified_ones_of_my_own(
    world: Any, staff: Any, resident: Any
) -> None:
    rule = _rule(world, points=-5, category=ScoringRule.Category.MISCONDUCT, code="clutter")
    checker = _checker(world)
    pending = points_request_create(
        actor=staff, resident=world.resident_a, rule=rule, quantity=1, reason="r", now=NOW
    )
    notified = points_request_create(
        actor=staff, resident=world.resident_a, rule=rule, quantity=1, reason="r", now=NOW
    )
    points_request_approve(request=notified, actor=checker, now=NOW)
    neighbour = points_request_create(
        actor=staff, resident=world.resident_b, rule=rule, quantity=1, reason="r", now=NOW
    )
    points_request_approve(request=neighbour, actor=checker, now=NOW)
    assert [d.pk for d in selectors.my_deductions(user=resident)] == [notified.pk]
    assert pending.pk not in {d.pk for d in selectors.my_deductions(user=resident)}


def test_points_per_resident_is_scoped_to_the_office(
    world: Any, staff: Any, street_supervisor: Any, grid_worker: Any, resident: Any
) -> None:
    seed_history(world)
    rows = {r.pk: r for r in selectors.points_per_resident(user=staff)}
    assert set(rows) == {world.resident_a.pk, world.resident_b.pk}
    a = rows[world.resident_a.pk]
    assert (a.balance, a.earned, a.spent, a.deducted) == (15, 23, 5, 0)
    assert rows[world.resident_b.pk].balance == 20
    assert world.other_resident.pk in {
        r.pk for r in selectors.points_per_resident(user=street_supervisor)
    }
    assert not selectors.points_per_resident(user=grid_worker).exists()
    assert not selectors.points_per_resident(user=resident).exists()


def test_points_workbook_masks_phones(world: Any, staff: Any) -> None:
    world.resident_a.phone = "13912345678"
    world.resident_a.save(update_fields=["phone"])
    seed_history(world)
    target = BytesIO()
    count = exports.points_workbook_write(
        residents=selectors.points_per_resident(user=staff), target=target
    )
    assert count == 2
    sheet = load_workbook(BytesIO(target.getvalue())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    flat = [str(v) for row in values for v in row]
    assert "139****5678" in flat
    assert not any("13912345678" in v for v in flat)
    row_a = next(row for row in values if row[5] == "张建国")
    assert row_a[8] == 15
