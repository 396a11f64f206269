from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.urls import reverse

from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from credit.models import GarbageWeighing, PointsAccount, PointsEntry, ScoringRule
from credit.services.garbage import garbage_weighing_record
from credit.services.rules import rule_for, standard_install

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 6, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def standard(world: Any) -> None:
    standard_install(street=world.street)
    ScoringRule.objects.update(valid_from=dt.date(2020, 1, 1))


@pytest.fixture
def clerk(world: Any, standard: None) -> Any:
    """The credit supermarket's clerk of `home`: weighs recyclables."""
    user = UserFactory(name="陈店员")
    MembershipFactory(user=user, role=Membership.Role.SUPERMARKET_CLERK, community=world.home)
    return user


@pytest.fixture
def recyclables(world: Any, standard: None) -> ScoringRule:
    return rule_for(community=world.home, code="garbage-recyclables-kg")  # 1/kg, 20 a day


@pytest.fixture
def kitchen(world: Any, standard: None) -> ScoringRule:
    return rule_for(community=world.home, code="kitchen-waste-kg")  # 1/kg, 5 a day


def weigh(actor: Any, world: Any, lines: list[tuple[ScoringRule, str]], key: str = "k1") -> Any:
    return garbage_weighing_record(
        actor=actor,
        resident=world.resident_a,
        lines=[(rule, Decimal(kg)) for rule, kg in lines],
        key=key,
        now=NOW,
    )


def balance(world: Any) -> int:
    return PointsAccount.objects.get(resident=world.resident_a).balance


def test_points_per_kg_are_rounded_down(world: Any, staff: Any, recyclables: Any) -> None:
    weighing = weigh(staff, world, [(recyclables, "3.9")])
    line = weighing.lines.get()
    assert line.kg == Decimal("3.90")
    assert line.entry.amount == 3
    assert line.entry.idempotency_key == f"garbage:{line.pk}"
    assert balance(world) == 3


def test_a_capped_line_earns_less_and_the_others_still_count(
    world: Any, staff: Any, recyclables: Any, kitchen: Any
) -> None:
    weigh(staff, world, [(recyclables, "7.5"), (kitchen, "7.5")])  # kitchen capped at 5
    assert balance(world) == 12
    second = weigh(staff, world, [(recyclables, "2"), (kitchen, "2")], key="k2")
    lines = {line.rule_id: line for line in second.lines.all()}
    assert lines[kitchen.pk].entry is None  # at the cap: recorded, no points
    assert lines[recyclables.pk].entry.amount == 2
    assert balance(world) == 14


def test_under_one_point_records_the_line_without_points(
    world: Any, staff: Any, recyclables: Any
) -> None:
    weighing = weigh(staff, world, [(recyclables, "0.4")])
    assert weighing.lines.get().entry is None
    assert not PointsEntry.objects.exists()


def test_replaying_the_form_key_records_once(world: Any, staff: Any, recyclables: Any) -> None:
    first = weigh(staff, world, [(recyclables, "5")])
    again = weigh(staff, world, [(recyclables, "5")])
    assert again.pk == first.pk
    assert GarbageWeighing.objects.count() == 1
    assert balance(world) == 5


@pytest.mark.parametrize("kg", ["0", "-1", "200.1"])
def test_weight_must_be_above_zero_and_sane(
    world: Any, staff: Any, recyclables: Any, kg: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        weigh(staff, world, [(recyclables, kg)])
    assert exc.value.code == "kg"
    assert not GarbageWeighing.objects.exists()


def test_a_role_the_rule_does_not_name_may_not_award_it(
    world: Any, clerk: Any, kitchen: Any
) -> None:
    with pytest.raises(PermissionDenied):
        weigh(clerk, world, [(kitchen, "2")])


def test_outsider_may_not_record_a_weighing(world: Any, outsider: Any, recyclables: Any) -> None:
    with pytest.raises(PermissionDenied):
        weigh(outsider, world, [(recyclables, "2")])


# --- Pages -----------------------------------------------------------------------------


def test_clerk_searches_residents_of_their_community_only(
    client: Any, world: Any, clerk: Any
) -> None:
    client.force_login(clerk)
    url = reverse("credit:garbage")
    found = client.get(url, {"q": world.resident_a.phone[-4:]}).content.decode()
    assert world.resident_a.name in found
    assert world.resident_a.phone_masked in found
    assert world.resident_a.phone not in found
    for term in (world.other_resident.name, world.other_resident.phone[-4:]):
        body = client.get(url, {"q": term}).content.decode()
        assert f"?resident={world.other_resident.pk}" not in body
        assert world.other_resident.phone_masked not in body
    assert client.get(url, {"resident": world.other_resident.pk}).status_code == 404


def test_clerk_sees_only_the_categories_their_role_may_award(
    client: Any, world: Any, clerk: Any, recyclables: Any, kitchen: Any
) -> None:
    client.force_login(clerk)
    body = client.get(reverse("credit:garbage"), {"resident": world.resident_a.pk}).content.decode()
    assert f'name="kg_{recyclables.pk}"' in body
    assert f'name="kg_{kitchen.pk}"' not in body


def test_double_submit_of_the_page_records_once_and_shows_the_slip(
    client: Any, world: Any, staff: Any, recyclables: Any, kitchen: Any
) -> None:
    client.force_login(staff)
    url = reverse("credit:garbage") + f"?resident={world.resident_a.pk}"
    data = {"key": str(uuid.uuid4()), f"kg_{recyclables.pk}": "3.5", f"kg_{kitchen.pk}": "9"}
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert GarbageWeighing.objects.count() == 1
    slip = client.get(first["Location"]).content.decode()
    main = slip.split("<main", 1)[1]
    assert "张**" in main
    assert "张建国" not in main
    assert "+8" in main  # 3 + 5 (kitchen cut to its daily cap)


def test_too_heavy_is_refused_with_a_message(
    client: Any, world: Any, staff: Any, recyclables: Any
) -> None:
    client.force_login(staff)
    url = reverse("credit:garbage") + f"?resident={world.resident_a.pk}"
    response = client.post(url, {"key": str(uuid.uuid4()), f"kg_{recyclables.pk}": "250"})
    assert response.status_code == 200
    assert "200" in response.content.decode()
    assert not GarbageWeighing.objects.exists()


def test_resident_sees_own_slip_but_not_the_weighing_page(
    client: Any, world: Any, staff: Any, resident: Any, recyclables: Any
) -> None:
    weighing = weigh(staff, world, [(recyclables, "2")])
    client.force_login(resident)
    assert client.get(reverse("credit:garbage-slip", args=[weighing.pk])).status_code == 200
    assert client.get(reverse("credit:garbage")).status_code == 404


def test_outsider_is_denied_garbage_pages(
    client: Any, world: Any, staff: Any, outsider: Any, recyclables: Any
) -> None:
    weighing = weigh(staff, world, [(recyclables, "2")])
    client.force_login(outsider)
    assert client.get(reverse("credit:garbage")).status_code == 404
    assert client.get(reverse("credit:garbage-slip", args=[weighing.pk])).status_code == 404


def test_staff_of_another_community_cannot_see_the_slip(
    client: Any, world: Any, staff: Any, recyclables: Any
) -> None:
    weighing = weigh(staff, world, [(recyclables, "2")])
    other_staff = UserFactory()
    MembershipFactory(user=other_staff, role=Membership.Role.COMMUNITY_STAFF, community=world.other)
    client.force_login(other_staff)
    assert client.get(reverse("credit:garbage-slip", args=[weighing.pk])).status_code == 404


def test_search_page_query_count_is_constant(
    client: Any, world: Any, clerk: Any, django_assert_max_num_queries: Any
) -> None:
    from community.tests.factories import ResidentFactory

    for _ in range(15):
        ResidentFactory(household=world.household_a, name="张三")
    client.force_login(clerk)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("credit:garbage"), {"q": "张"})
    assert response.status_code == 200


# --- Concurrency (PostgreSQL) ------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_same_form_submitted_at_once_records_once(
    require_postgres: None, world: Any, staff: Any, recyclables: Any
) -> None:
    n = 8
    barrier = threading.Barrier(n)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            result: Any = weigh(staff, world, [(recyclables, "4")], key="same-form")
        except BaseException as exc:  # collected for the assertion below
            result = exc
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(o, GarbageWeighing) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert GarbageWeighing.objects.count() == 1
    assert balance(world) == 4
