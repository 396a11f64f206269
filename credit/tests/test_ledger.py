from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from credit import services
from credit.models import PointsAccount, PointsEntry, ScoringRule
from credit.services.reconciliation import ledger_reconciliation
from credit.tests.factories import ScoringRuleFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 6, 10, 0, tzinfo=dt.UTC)  # 18:00 in Shanghai, an exchange day


@contextmanager
def refused(exception: type[Exception] = ValidationError) -> Iterator[Any]:
    """Expect a service to refuse. The ledger services run inside their caller's
    transaction, so an entry point wraps them in its own: a savepoint here."""
    with pytest.raises(exception) as exc, transaction.atomic():
        yield exc


def award(
    world: Any, rule: ScoringRule, key: str, quantity: Any = 1, now: dt.datetime = NOW
) -> Any:
    return services.points_award(
        resident=world.resident_a, rule=rule, key=key, quantity=quantity, now=now
    )


def balance(world: Any) -> int:
    return PointsAccount.objects.get(resident=world.resident_a).balance


def test_award_moves_points_from_issuance_and_caches_balance(world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=2, unit="hour")
    entry = award(world, rule, "volunteer-hours:1", quantity=Decimal("3.5"))
    assert entry.amount == 7  # 2 per hour × 3.5 h, whole points
    assert entry.rule == rule
    assert entry.debit_account.kind == PointsAccount.Kind.ISSUANCE
    assert balance(world) == 7


def test_replaying_a_key_returns_the_first_entry_and_changes_nothing(world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=5, unit="event")
    first = award(world, rule, "fee-paid:9")
    again = award(world, rule, "fee-paid:9")
    assert again.pk == first.pk
    assert PointsEntry.objects.count() == 1
    assert balance(world) == 5


def test_a_key_cannot_be_reused_for_another_resident(world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=5, unit="event")
    award(world, rule, "fee-paid:9")
    with refused():
        services.points_award(resident=world.resident_b, rule=rule, key="fee-paid:9", now=NOW)


def test_daily_cap_cuts_the_award_then_refuses(world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=2, unit="hour", cap_day=16)
    award(world, rule, "a", quantity=6)  # 12
    assert award(world, rule, "b", quantity=6).amount == 4  # cut to the cap
    with refused() as exc:
        award(world, rule, "c", quantity=1)
    assert exc.value.code == "cap_reached"
    assert balance(world) == 16


def test_caps_count_by_local_day_in_shanghai(world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=10, unit="event", cap_day=10)
    # 23:30 and 00:30 Shanghai time are two days, though both are 15:30/16:30 UTC of one day.
    award(world, rule, "late", now=dt.datetime(2026, 11, 6, 15, 30, tzinfo=dt.UTC))
    entry = award(world, rule, "early", now=dt.datetime(2026, 11, 6, 16, 30, tzinfo=dt.UTC))
    assert entry.amount == 10


def test_caps_span_rule_versions_and_ignore_reversed_awards(world: Any, staff: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=5, unit="event", cap_month=10)
    first = award(world, rule, "one")  # 5
    revised = services.rule_revise(rule=rule, actor=staff, points=4)
    assert award(world, revised, "two").amount == 4  # 9 of 10 this month
    assert award(world, revised, "three").amount == 1  # cut: the cap counts both versions
    services.points_reverse(entry=first, now=NOW)
    assert award(world, revised, "four").amount == 4  # the reversed 5 no longer count


def test_rule_revision_makes_a_new_version_and_keeps_the_old(world: Any, staff: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=5, unit="event")
    old_entry = award(world, rule, "old")
    new = services.rule_revise(rule=rule, actor=staff, points=8)
    rule.refresh_from_db()
    assert (rule.version, rule.is_current) == (1, False)
    assert (new.version, new.is_current, new.points) == (2, True, 8)
    assert award(world, new, "new").rule_id == new.pk
    old_entry.refresh_from_db()
    assert old_entry.rule_id == rule.pk  # the entry keeps the version it used
    with pytest.raises(ValidationError):  # a durable service: its own transaction
        services.rule_revise(rule=rule, actor=staff, points=9)  # not current any more


def test_database_keeps_one_current_version(world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street)
    with refused(IntegrityError):
        ScoringRuleFactory(street=world.street, code=rule.code, version=2)


def test_database_refuses_a_misconduct_rule_that_awards(world: Any) -> None:
    with refused(IntegrityError):
        ScoringRuleFactory(street=world.street, category="misconduct", points=5)


def test_rule_outside_its_validity_is_refused(world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, valid_to=dt.date(2026, 6, 30))
    with refused():
        award(world, rule, "late")


def test_only_the_named_roles_may_award(world: Any, grid_worker: Any, staff: Any) -> None:
    rule = ScoringRuleFactory(
        street=world.street, points=5, unit="event", awarder_roles=["community_staff"]
    )
    with refused(PermissionDenied):
        services.points_award(
            resident=world.resident_a, rule=rule, key="x", now=NOW, actor=grid_worker
        )
    entry = services.points_award(
        resident=world.resident_a, rule=rule, key="x", now=NOW, actor=staff
    )
    assert entry.actor == staff


def test_staff_of_another_community_may_not_award(world: Any) -> None:
    rule = ScoringRuleFactory(
        street=world.street, points=5, unit="event", awarder_roles=["community_staff"]
    )
    user = UserFactory()
    MembershipFactory(user=user, role=Membership.Role.COMMUNITY_STAFF, community=world.other)
    with refused(PermissionDenied):
        services.points_award(resident=world.resident_a, rule=rule, key="x", now=NOW, actor=user)


def test_spending_needs_the_balance(world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=30, unit="event")
    award(world, rule, "a")
    with refused() as exc:
        services.points_spend(resident=world.resident_a, amount=31, key="buy:1", now=NOW)
    assert exc.value.code == "insufficient"
    services.points_spend(resident=world.resident_a, amount=30, key="buy:2", now=NOW)
    assert balance(world) == 0


def test_reversal_points_at_the_original_and_happens_once(world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=5, unit="event")
    entry = award(world, rule, "a")
    reversal = services.points_reverse(entry=entry, now=NOW, reason="记错了")
    assert reversal.reverses == entry
    assert services.points_reverse(entry=entry, now=NOW).pk == reversal.pk
    assert balance(world) == 0
    with refused():
        services.points_reverse(entry=reversal, now=NOW)


def test_spent_points_cannot_be_reversed_away(world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=5, unit="event")
    entry = award(world, rule, "a")
    services.points_spend(resident=world.resident_a, amount=5, key="buy", now=NOW)
    with refused() as exc:
        services.points_reverse(entry=entry, now=NOW)
    assert exc.value.code == "spent"


def test_deduction_takes_at_most_the_balance(world: Any) -> None:
    award(world, ScoringRuleFactory(street=world.street, points=8, unit="event"), "a")
    bad = ScoringRuleFactory(street=world.street, category="misconduct", points=-20, unit="event")
    entry = services.points_deduct(resident=world.resident_a, rule=bad, key="d", now=NOW)
    assert entry is not None and entry.amount == 8
    assert balance(world) == 0
    assert services.points_deduct(resident=world.resident_a, rule=bad, key="d2", now=NOW) is None


def test_database_refuses_a_negative_resident_balance(world: Any) -> None:
    award(world, ScoringRuleFactory(street=world.street, points=1, unit="event"), "a")
    with refused(IntegrityError):
        PointsAccount.objects.filter(resident=world.resident_a).update(balance=-1)


def test_reconciliation_passes_then_catches_drift(world: Any) -> None:
    rule = ScoringRuleFactory(street=world.street, points=10, unit="event")
    award(world, rule, "a")
    services.points_reverse(entry=award(world, rule, "b"), now=NOW)
    services.points_spend(resident=world.resident_a, amount=4, key="buy", now=NOW)
    report = ledger_reconciliation()
    assert report.ok
    assert report.outstanding_cached == 6
    call_command("credit_reconcile", stdout=StringIO())
    PointsAccount.objects.filter(resident=world.resident_a).update(balance=7)
    assert not ledger_reconciliation().ok
    with pytest.raises(CommandError, match="drift"):  # manage.py exits 1 on it
        call_command("credit_reconcile", stdout=StringIO(), stderr=StringIO())


def test_standard_installs_once(world: Any) -> None:
    created = services.standard_install(street=world.street)
    assert created >= 24
    assert services.standard_install(street=world.street) == 0
    rule = services.rule_for(community=world.home, code="volunteer-hour")
    assert rule.community is None and rule.points > 0
