"""The credit supermarket's services and selectors: windows, limits, redeem, hand over,
cancel, expire. Time is injected (`now`); windows are judged in Shanghai time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from credit.models import ExchangeWindow, PointsAccount, PointsEntry, Redemption, SupermarketItem
from credit.selectors import supermarket as selectors
from credit.services.ledger import points_award
from credit.services.reconciliation import ledger_reconciliation
from credit.services.supermarket import (
    TRANSITIONS,
    pickup_deadline,
    redemption_cancel,
    redemption_create,
    redemption_fulfil,
    redemptions_expire,
)
from credit.tasks import redemptions_expire_task
from credit.tests.factories import ScoringRuleFactory

pytestmark = pytest.mark.django_db

SH = dt.timezone(dt.timedelta(hours=8))
# 10:00 in Shanghai on the 6th: an exchange day, the window 9:00–17:00 is open.
NOW = dt.datetime(2026, 11, 6, 10, 0, tzinfo=SH)


def shanghai(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> Any:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=SH).astimezone(dt.UTC)


def make_window(community: Any, **kwargs: Any) -> ExchangeWindow:
    fields: dict[str, Any] = {
        "name": "每月6日兑换日",
        "day_of_month": 6,
        "opens_at": dt.time(9, 0),
        "closes_at": dt.time(17, 0),
        "valid_from": dt.date(2026, 1, 1),
    }
    fields.update(kwargs)
    return ExchangeWindow.objects.create(community=community, **fields)


def make_item(community: Any, **kwargs: Any) -> SupermarketItem:
    fields: dict[str, Any] = {"name": "洗衣液", "points_price": 30, "stock": 10}
    fields.update(kwargs)
    return SupermarketItem.objects.create(community=community, **fields)


def fund(world: Any, resident: Any, points: int) -> None:
    rule = ScoringRuleFactory(street=world.street, points=points, unit="event")
    points_award(resident=resident, rule=rule, key=f"seed:{resident.pk}:{rule.pk}", now=NOW)


def balance(resident: Any) -> int:
    return PointsAccount.objects.get(resident=resident).balance


def make_clerk(community: Any) -> Any:
    user = UserFactory(name="郑店员")
    MembershipFactory(user=user, role=Membership.Role.SUPERMARKET_CLERK, community=community)
    return user


@pytest.fixture
def shop(world: Any) -> dict[str, Any]:
    """An open exchange day at `home`, a 30-point item, a resident with 100 points."""
    make_window(world.home)
    fund(world, world.resident_a, 100)
    return {"item": make_item(world.home), "clerk": make_clerk(world.home)}


def redeem(world: Any, item: Any, key: str = "k1", now: Any = NOW, **kwargs: Any) -> Redemption:
    return redemption_create(resident=world.resident_a, item=item, key=key, now=now, **kwargs)


def refusal(call: Any) -> str:
    with pytest.raises(ValidationError) as exc:
        call()
    return str(exc.value.code)


# --- Exchange windows ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (shanghai(6, 9, 0), True),  # opens_at is inside
        (shanghai(6, 8, 59, 59), False),
        (shanghai(6, 16, 59, 59), True),
        (shanghai(6, 17, 0), False),  # closes_at is outside
        (shanghai(7, 10, 0), False),  # another day
        (shanghai(5, 23, 30), False),
    ],
)
def test_monthly_window_opens_on_its_day_in_shanghai_time(
    world: Any, moment: Any, is_open: bool
) -> None:
    make_window(world.home)
    assert (selectors.exchange_window_open(community_id=world.home.pk, now=moment) is not None) == (
        is_open
    )


def test_window_is_judged_in_shanghai_even_when_utc_is_another_day(world: Any) -> None:
    make_window(world.home)
    # 2026-11-05 23:30 UTC is 07:30 on the 6th in Shanghai: the day matches, the hour not.
    assert (
        selectors.exchange_window_open(
            community_id=world.home.pk, now=dt.datetime(2026, 11, 5, 23, 30, tzinfo=dt.UTC)
        )
        is None
    )
    # 2026-11-06 01:00 UTC is 09:00 in Shanghai: open.
    assert selectors.exchange_window_open(
        community_id=world.home.pk, now=dt.datetime(2026, 11, 6, 1, 0, tzinfo=dt.UTC)
    )


def test_always_open_window_and_validity_dates(world: Any) -> None:
    window = make_window(
        world.home, always_open=True, day_of_month=None, opens_at=None, closes_at=None
    )
    assert selectors.exchange_window_open(community_id=world.home.pk, now=shanghai(7, 3))
    window.valid_to = dt.date(2026, 10, 31)
    window.save()
    assert selectors.exchange_window_open(community_id=world.home.pk, now=shanghai(7, 3)) is None


def test_community_without_window_is_closed(world: Any) -> None:
    fund(world, world.resident_a, 100)
    item = make_item(world.home)
    assert refusal(lambda: redeem(world, item)) == "closed"
    assert balance(world.resident_a) == 100


def test_redeeming_outside_the_window_is_refused(world: Any, shop: Any) -> None:
    assert refusal(lambda: redeem(world, shop["item"], now=shanghai(6, 17, 0))) == "closed"


# --- Redeeming ----------------------------------------------------------------------------


def test_redemption_reserves_stock_debits_points_and_gives_a_code(world: Any, shop: Any) -> None:
    redemption = redeem(world, shop["item"])
    assert redemption.status == Redemption.Status.RESERVED
    assert redemption.points == 30
    assert len(redemption.pickup_code) == 8
    assert set(redemption.pickup_code) <= set(selectors.CODE_ALPHABET)
    assert redemption.expires_at == pickup_deadline(NOW)
    assert redemption.expires_at == dt.datetime(2026, 11, 13, 23, 59, tzinfo=SH)
    assert redemption.entry.kind == PointsEntry.Kind.REDEMPTION
    assert redemption.entry.idempotency_key == f"redemption:{world.resident_a.pk}:k1"
    assert balance(world.resident_a) == 70
    shop["item"].refresh_from_db()
    assert shop["item"].stock == 9
    assert ledger_reconciliation().ok


def test_replaying_a_key_returns_the_first_redemption_unchanged(world: Any, shop: Any) -> None:
    first = redeem(world, shop["item"], key="same")
    again = redeem(world, shop["item"], key="same", now=shanghai(20, 10))  # window closed now
    assert again.pk == first.pk
    assert again.replayed is True
    assert first.replayed is False
    assert Redemption.objects.count() == 1
    assert PointsEntry.objects.filter(kind=PointsEntry.Kind.REDEMPTION).count() == 1
    assert balance(world.resident_a) == 70


def test_two_residents_may_use_the_same_key(world: Any, shop: Any) -> None:
    fund(world, world.resident_b, 100)
    mine = redeem(world, shop["item"], key="1")
    theirs = redemption_create(resident=world.resident_b, item=shop["item"], key="1", now=NOW)
    assert mine.pk != theirs.pk
    assert balance(world.resident_b) == 70


def test_not_enough_points_is_refused_and_stock_untouched(world: Any, shop: Any) -> None:
    item = make_item(world.home, name="电饭煲", points_price=101)
    assert refusal(lambda: redeem(world, item)) == "insufficient"
    item.refresh_from_db()
    assert item.stock == 10
    assert balance(world.resident_a) == 100
    assert not Redemption.objects.exists()


def test_out_of_stock_is_refused(world: Any, shop: Any) -> None:
    item = make_item(world.home, stock=1)
    redeem(world, item, key="a")
    assert refusal(lambda: redeem(world, item, key="b")) == "out_of_stock"
    item.refresh_from_db()
    assert item.stock == 0
    assert balance(world.resident_a) == 70


def test_a_service_with_unlimited_stock_keeps_none(world: Any, shop: Any) -> None:
    item = make_item(world.home, name="理疗", kind=SupermarketItem.Kind.SERVICE, stock=None)
    redeem(world, item, key="a")
    redeem(world, item, key="b")
    item.refresh_from_db()
    assert item.stock is None


def test_monthly_limit_counts_reserved_and_picked_up_but_not_cancelled(
    world: Any, shop: Any, resident: Any
) -> None:
    item = make_item(world.home, limit_per_resident=1, points_price=10)
    first = redeem(world, item, key="a")
    assert refusal(lambda: redeem(world, item, key="b")) == "limit_reached"
    redemption_cancel(redemption=first, actor=resident, now=NOW)
    redeem(world, item, key="c")
    # Next month's exchange day: a new period.
    assert redeem(world, item, key="d", now=shanghai(6, 10, month=12)).status == "reserved"


def test_ever_limit_spans_periods(world: Any, shop: Any) -> None:
    item = make_item(world.home, limit_per_resident=1, limit_period="ever", points_price=10)
    redeem(world, item, key="a")
    assert refusal(lambda: redeem(world, item, key="b", now=shanghai(6, 10, month=12))) == (
        "limit_reached"
    )


def test_item_of_another_community_or_off_sale_is_refused(world: Any, shop: Any) -> None:
    make_window(world.other)
    elsewhere = make_item(world.other)
    assert refusal(lambda: redeem(world, elsewhere, key="a")) == "not_here"
    off = make_item(world.home, is_active=False)
    assert refusal(lambda: redeem(world, off, key="b")) == "inactive"


def test_a_missing_key_is_refused(world: Any, shop: Any) -> None:
    assert refusal(lambda: redeem(world, shop["item"], key=" ")) == "key"


# --- Handing over -------------------------------------------------------------------------


def test_clerk_hands_over_once(world: Any, shop: Any) -> None:
    redemption = redeem(world, shop["item"])
    done = redemption_fulfil(
        code=f" {redemption.pickup_code.lower()} ", clerk=shop["clerk"], now=NOW
    )
    assert done.status == Redemption.Status.FULFILLED
    assert done.fulfilled_by == shop["clerk"]
    assert done.fulfilled_at == NOW
    code = redemption.pickup_code
    assert refusal(lambda: redemption_fulfil(code=code, clerk=shop["clerk"], now=NOW)) == "used"


def test_wrong_code_is_unknown(world: Any, shop: Any) -> None:
    redeem(world, shop["item"])
    assert refusal(lambda: redemption_fulfil(code="ZZZZ2222", clerk=shop["clerk"], now=NOW)) == (
        "unknown_code"
    )
    assert refusal(lambda: redemption_fulfil(code="", clerk=shop["clerk"], now=NOW)) == (
        "unknown_code"
    )


def test_clerk_of_another_community_cannot_hand_over(world: Any, shop: Any) -> None:
    redemption = redeem(world, shop["item"])
    stranger = make_clerk(world.other)
    code = redemption.pickup_code
    assert refusal(lambda: redemption_fulfil(code=code, clerk=stranger, now=NOW)) == (
        "unknown_code"
    )
    with pytest.raises(Redemption.DoesNotExist):
        selectors.redemption_for_clerk_by_code(user=stranger, code=code)
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.RESERVED


def test_community_staff_may_hand_over_but_a_resident_may_not(
    world: Any, shop: Any, staff: Any, resident: Any
) -> None:
    redemption = redeem(world, shop["item"])
    code = redemption.pickup_code
    assert refusal(lambda: redemption_fulfil(code=code, clerk=resident, now=NOW)) == "unknown_code"
    assert redemption_fulfil(code=code, clerk=staff, now=NOW).status == "fulfilled"


def test_a_code_past_its_deadline_is_refused(world: Any, shop: Any) -> None:
    redemption = redeem(world, shop["item"])
    late = redemption.expires_at
    code = redemption.pickup_code
    assert refusal(lambda: redemption_fulfil(code=code, clerk=shop["clerk"], now=late)) == (
        "expired"
    )


# --- Cancelling and expiring --------------------------------------------------------------


def test_resident_cancels_and_gets_points_and_stock_back(
    world: Any, shop: Any, resident: Any
) -> None:
    redemption = redeem(world, shop["item"])
    redemption_cancel(redemption=redemption, actor=resident, now=NOW)
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.CANCELLED
    assert balance(world.resident_a) == 100
    shop["item"].refresh_from_db()
    assert shop["item"].stock == 10
    assert PointsEntry.objects.filter(reverses=redemption.entry).count() == 1
    assert ledger_reconciliation().ok
    with pytest.raises(ValidationError):
        redemption_cancel(redemption=redemption, actor=resident, now=NOW)


def test_staff_may_cancel_for_a_resident_but_a_neighbour_may_not(
    world: Any, shop: Any, staff: Any
) -> None:
    redemption = redeem(world, shop["item"])
    neighbour = UserFactory()
    world.resident_b.user = neighbour
    world.resident_b.save(update_fields=["user"])
    with pytest.raises(PermissionDenied):
        redemption_cancel(redemption=redemption, actor=neighbour, now=NOW)
    assert redemption_cancel(redemption=redemption, actor=staff, now=NOW).status == "cancelled"


def test_a_picked_up_item_cannot_be_cancelled(world: Any, shop: Any, resident: Any) -> None:
    redemption = redeem(world, shop["item"])
    redemption_fulfil(code=redemption.pickup_code, clerk=shop["clerk"], now=NOW)
    assert (
        refusal(lambda: redemption_cancel(redemption=redemption, actor=resident, now=NOW))
        == "not_reserved"
    )
    assert balance(world.resident_a) == 70


def test_expiry_returns_points_and_stock_once(world: Any, shop: Any) -> None:
    due = redeem(world, shop["item"], key="due")
    later = redeem(world, shop["item"], key="later", now=shanghai(6, 16))
    picked = redeem(world, shop["item"], key="picked")
    redemption_fulfil(code=picked.pickup_code, clerk=shop["clerk"], now=NOW)
    cutoff = due.expires_at  # the same deadline day for all three: all are due at midnight
    assert later.expires_at == cutoff
    assert redemptions_expire(now=cutoff - dt.timedelta(seconds=1)) == 0
    assert redemptions_expire(now=cutoff) == 2
    assert redemptions_expire(now=cutoff) == 0
    assert set(Redemption.objects.values_list("status", flat=True)) == {"expired", "fulfilled"}
    assert balance(world.resident_a) == 70
    shop["item"].refresh_from_db()
    assert shop["item"].stock == 9
    assert ledger_reconciliation().ok


def test_expiry_task_runs_the_sweep(world: Any, shop: Any) -> None:
    redeem(world, shop["item"], key="old", now=shanghai(6, 10, month=1))
    assert redemptions_expire_task.apply(kwargs={}).get() == 1
    assert Redemption.objects.get().status == Redemption.Status.EXPIRED


def test_only_reserved_redemptions_may_change(world: Any) -> None:
    assert set(TRANSITIONS[Redemption.Status.RESERVED]) == {"fulfilled", "cancelled", "expired"}
    for status in ("fulfilled", "cancelled", "expired"):
        assert TRANSITIONS[status] == frozenset()


# --- Selectors ----------------------------------------------------------------------------


def test_catalogue_flags_what_i_can_afford_and_my_remaining_limit(world: Any, shop: Any) -> None:
    limited = make_item(world.home, name="非遗剪纸课", points_price=50, limit_per_resident=2)
    dear = make_item(world.home, name="电饭煲", points_price=500)
    make_item(world.home, name="下架", is_active=False)
    make_item(world.other, name="别的社区")
    redeem(world, limited, key="a")  # balance 50 left
    resident = selectors.resident_of_user(user=_login(world))
    bal = selectors.resident_balance(resident=resident)
    rows = {
        i.name: i for i in selectors.catalogue_for_resident(resident=resident, now=NOW, balance=bal)
    }
    assert set(rows) == {"洗衣液", "非遗剪纸课", "电饭煲"}
    assert rows["非遗剪纸课"].remaining_limit == 1
    assert rows["非遗剪纸课"].can_afford is True
    assert rows["洗衣液"].remaining_limit is None
    assert rows[dear.name].can_afford is False
    affordable = selectors.catalogue_for_resident(
        resident=resident, now=NOW, balance=bal, affordable_only=True
    )
    assert {i.name for i in affordable} == {"洗衣液", "非遗剪纸课"}


def _login(world: Any) -> Any:
    user = UserFactory()
    world.resident_a.user = user
    world.resident_a.save(update_fields=["user"])
    return user


def test_a_resident_sees_only_their_own_redemptions(world: Any, shop: Any) -> None:
    fund(world, world.resident_b, 100)
    redeem(world, shop["item"], key="a")
    redemption_create(resident=world.resident_b, item=shop["item"], key="b", now=NOW)
    me = _login(world)
    assert [r.resident_id for r in selectors.redemptions_of_user(user=me)] == [world.resident_a.pk]
    assert not selectors.redemptions_of_user(user=UserFactory()).exists()


def test_pickups_today_lists_waiting_and_handed_over_today(world: Any, shop: Any) -> None:
    waiting = redeem(world, shop["item"], key="a")
    handed = redeem(world, shop["item"], key="b")
    redemption_fulfil(code=handed.pickup_code, clerk=shop["clerk"], now=NOW)
    rows = list(selectors.pickups_today(user=shop["clerk"], now=NOW))
    assert {r.pk for r in rows} == {waiting.pk, handed.pk}
    assert not selectors.pickups_today(user=make_clerk(world.other), now=NOW).exists()
