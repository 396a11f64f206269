from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.urls import reverse

from community.models import Membership
from community.tests.factories import MembershipFactory, ResidentFactory, UserFactory
from credit.models import BoardSnapshot, PointsRequest, RedListOptOut, ScoringRule
from credit.services.boards import board_publish, red_list_opt_out
from credit.services.ledger import points_award, points_deduct, points_reverse
from credit.tests.factories import ScoringRuleFactory

pytestmark = pytest.mark.django_db

OCT = dt.date(2026, 10, 1)
NOW = dt.datetime(2026, 11, 6, 2, 0, tzinfo=dt.UTC)
IN_OCT = dt.datetime(2026, 10, 15, 2, 0, tzinfo=dt.UTC)


def at(day: int, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, 4, 0, tzinfo=dt.UTC)


@pytest.fixture
def rules(world: Any) -> dict[str, Any]:
    return {
        "award": ScoringRuleFactory(street=world.street, points=1, unit="event"),
        "misconduct": ScoringRuleFactory(
            street=world.street, points=-5, unit="event", category="misconduct"
        ),
    }


def award(resident: Any, rule: ScoringRule, points: int, key: str, when: dt.datetime) -> Any:
    return points_award(resident=resident, rule=rule, quantity=points, key=key, now=when)


def publish(actor: Any, world: Any, **kwargs: Any) -> BoardSnapshot:
    args: dict[str, Any] = {
        "actor": actor,
        "community": world.home,
        "period": "month",
        "period_start": OCT,
        "area_kind": "community",
        "area_id": world.home.pk,
        "now": NOW,
    }
    args.update(kwargs)
    return board_publish(**args)


def test_board_rows_show_surname_and_building_only(
    world: Any, staff: Any, rules: dict[str, Any]
) -> None:
    award(world.resident_a, rules["award"], 30, "a", IN_OCT)
    award(world.resident_b, rules["award"], 20, "b", IN_OCT)
    points_deduct(resident=world.resident_b, rule=rules["misconduct"], key="d", now=IN_OCT)
    board = publish(staff, world)
    assert board.red_rows == [
        {"rank": 1, "name": "张**", "building": world.building_a.number, "points": 30},
        {"rank": 2, "name": "李**", "building": world.building_b.number, "points": 20},
    ]
    assert board.grey_rows == [
        {"rank": 1, "name": "李**", "building": world.building_b.number, "points": -5}
    ]
    dump = json.dumps([board.red_rows, board.grey_rows], ensure_ascii=False)
    for secret in ("张建国", "李秀英", world.resident_a.phone, "id"):
        assert secret not in dump
    for row in board.red_rows + board.grey_rows:
        assert set(row) == {"rank", "name", "building", "points"}


def test_opt_out_hides_resident_from_red_list_but_not_grey(
    world: Any, staff: Any, resident: Any, rules: dict[str, Any]
) -> None:
    award(world.resident_a, rules["award"], 30, "a", IN_OCT)
    points_deduct(resident=world.resident_a, rule=rules["misconduct"], key="d", now=IN_OCT)
    award(world.resident_b, rules["award"], 3, "b", IN_OCT)
    red_list_opt_out(resident_user=resident, opt_out=True)
    board = publish(staff, world)
    assert [r["name"] for r in board.red_rows] == ["李**"]
    assert [r["name"] for r in board.grey_rows] == ["张**"]


def test_opting_back_in_removes_the_opt_out(world: Any, resident: Any) -> None:
    red_list_opt_out(resident_user=resident, opt_out=True)
    assert RedListOptOut.objects.filter(resident=world.resident_a).exists()
    red_list_opt_out(resident_user=resident, opt_out=False)
    assert not RedListOptOut.objects.exists()


def test_only_residents_may_opt_out(world: Any, outsider: Any) -> None:
    with pytest.raises(PermissionDenied):
        red_list_opt_out(resident_user=outsider, opt_out=True)


def test_board_counts_awards_in_the_period_only_and_leaves_out_reversed_ones(
    world: Any, staff: Any, rules: dict[str, Any]
) -> None:
    rule = rules["award"]
    award(world.resident_a, rule, 5, "sep", at(30, 9))
    award(world.resident_a, rule, 7, "oct", at(2))
    wrong = award(world.resident_a, rule, 50, "oct-wrong", at(3))
    points_reverse(entry=wrong, now=at(4))
    award(world.resident_a, rule, 9, "nov", at(1, 11))
    # Shanghai midnight: 2026-10-31 23:30 local is still October.
    award(world.resident_b, rule, 4, "late", dt.datetime(2026, 10, 31, 15, 30, tzinfo=dt.UTC))
    award(world.resident_b, rule, 6, "early-nov", dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC))
    board = publish(staff, world)
    assert [(r["name"], r["points"]) for r in board.red_rows] == [("张**", 7), ("李**", 4)]


def test_grey_list_counts_applied_deduction_requests_in_full(
    world: Any, staff: Any, rules: dict[str, Any]
) -> None:
    checker = UserFactory()
    PointsRequest.objects.create(
        kind=PointsRequest.Kind.DEDUCTION,
        status=PointsRequest.Status.APPLIED,
        community=world.home,
        resident=world.resident_a,
        rule=rules["misconduct"],
        quantity=2,
        reason="楼道堆物",
        requested_by=staff,
        decided_by=checker,
        decided_at=at(1),
        appeal_deadline=at(8),
    )
    board = publish(staff, world)
    assert board.grey_rows == [
        {"rank": 1, "name": "张**", "building": world.building_a.number, "points": -10}
    ]


def test_red_list_keeps_top_n_with_ties(world: Any, staff: Any, rules: dict[str, Any]) -> None:
    extra = ResidentFactory(household=world.household_a, name="赵小明")
    award(world.resident_a, rules["award"], 9, "a", IN_OCT)
    award(world.resident_b, rules["award"], 5, "b", IN_OCT)
    award(extra, rules["award"], 5, "c", IN_OCT)
    board = publish(staff, world, top_n=2)
    assert [(r["rank"], r["points"]) for r in board.red_rows] == [(1, 9), (2, 5), (2, 5)]


def test_building_board_covers_only_that_building(
    world: Any, staff: Any, rules: dict[str, Any]
) -> None:
    award(world.resident_a, rules["award"], 3, "a", IN_OCT)
    award(world.resident_b, rules["award"], 5, "b", IN_OCT)
    board = publish(staff, world, area_kind="building", area_id=world.building_a.pk)
    assert [r["name"] for r in board.red_rows] == ["张**"]
    assert world.building_a.number in board.area_name


def test_publishing_the_same_period_and_area_twice_is_refused(world: Any, staff: Any) -> None:
    publish(staff, world)
    with pytest.raises(ValidationError) as exc:
        publish(staff, world)
    assert exc.value.code == "published"
    assert BoardSnapshot.objects.count() == 1


def test_staff_of_another_community_may_not_publish(world: Any) -> None:
    other_staff = UserFactory()
    MembershipFactory(user=other_staff, role=Membership.Role.COMMUNITY_STAFF, community=world.other)
    with pytest.raises(PermissionDenied):
        publish(other_staff, world)
    with pytest.raises(ValidationError):  # their own community, but an area of `home`
        publish(
            other_staff, world, community=world.other, area_kind="estate", area_id=world.estate.pk
        )


def test_grid_worker_may_not_publish(world: Any, grid_worker: Any) -> None:
    with pytest.raises(PermissionDenied):
        publish(grid_worker, world)


@pytest.mark.parametrize(
    ("period", "start"),
    [("month", dt.date(2026, 10, 2)), ("quarter", dt.date(2026, 8, 1)), ("year", OCT)],
)
def test_period_start_must_be_the_first_day_of_the_period(
    world: Any, staff: Any, period: str, start: dt.date
) -> None:
    with pytest.raises(ValidationError) as exc:
        publish(staff, world, period=period, period_start=start)
    assert exc.value.code == "period_start"


def test_quarter_and_year_bounds(world: Any, staff: Any) -> None:
    quarter = publish(staff, world, period="quarter", period_start=dt.date(2026, 7, 1))
    assert quarter.period_end == dt.date(2026, 9, 30)
    year = publish(staff, world, period="year", period_start=dt.date(2025, 1, 1))
    assert year.period_end == dt.date(2025, 12, 31)


def test_a_period_that_has_not_ended_cannot_be_published(world: Any, staff: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        publish(staff, world, period_start=dt.date(2026, 11, 1))
    assert exc.value.code == "period_open"


# --- Pages -----------------------------------------------------------------------------


@pytest.fixture
def board(world: Any, staff: Any, rules: dict[str, Any]) -> BoardSnapshot:
    award(world.resident_a, rules["award"], 12, "a", IN_OCT)
    return publish(staff, world)


def test_resident_of_the_community_reads_its_boards(
    client: Any, world: Any, resident: Any, board: BoardSnapshot
) -> None:
    client.force_login(resident)
    assert world.home.name in client.get(reverse("credit:boards")).content.decode()
    page = client.get(reverse("credit:board-detail", args=[board.pk])).content.decode()
    body = page.split("<main", 1)[1]  # the navbar greets the user by name
    assert "张**" in body
    assert "张建国" not in body


def test_boards_are_invisible_outside_their_community(
    client: Any, world: Any, board: BoardSnapshot
) -> None:
    neighbour = UserFactory()
    world.other_resident.user = neighbour
    world.other_resident.save(update_fields=["user"])
    client.force_login(neighbour)
    assert world.home.name not in client.get(reverse("credit:boards")).content.decode()
    for name in ("credit:board-detail", "credit:board-poster"):
        assert client.get(reverse(name, args=[board.pk])).status_code == 404


def test_outsider_is_denied_board_pages(
    client: Any, world: Any, outsider: Any, board: BoardSnapshot
) -> None:
    client.force_login(outsider)
    assert client.get(reverse("credit:boards")).status_code == 404
    assert client.get(reverse("credit:board-detail", args=[board.pk])).status_code == 404
    assert client.get(reverse("credit:board-poster", args=[board.pk])).status_code == 404
    assert client.get(reverse("credit:board-publish")).status_code == 404
    assert client.get(reverse("credit:board-privacy")).status_code == 404


def test_poster_renders_a4_without_navigation(
    client: Any, world: Any, resident: Any, board: BoardSnapshot
) -> None:
    client.force_login(resident)
    response = client.get(reverse("credit:board-poster", args=[board.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "size: A4 portrait" in body
    assert world.home.name in body
    assert "张**" in body
    assert "<nav" not in body


def test_staff_publish_page_publishes_and_refuses_twice(
    client: Any, world: Any, staff: Any, rules: dict[str, Any]
) -> None:
    award(world.resident_a, rules["award"], 4, "a", IN_OCT)
    client.force_login(staff)
    data = {"period": "month:2026-10-01", "area": f"community:{world.home.pk}", "top_n": 10}
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        assert client.get(reverse("credit:board-publish")).status_code == 200
        response = client.post(reverse("credit:board-publish"), data)
        board = BoardSnapshot.objects.get()
        assert response["Location"] == reverse("credit:board-detail", args=[board.pk])
        again = client.post(reverse("credit:board-publish"), data)
    assert again.status_code == 200
    assert BoardSnapshot.objects.count() == 1


def test_publish_page_is_404_for_residents_and_grid_workers(
    client: Any, world: Any, resident: Any, grid_worker: Any
) -> None:
    for user in (resident, grid_worker):
        client.force_login(user)
        assert client.get(reverse("credit:board-publish")).status_code == 404


def test_privacy_page_toggles_the_opt_out(client: Any, world: Any, resident: Any) -> None:
    client.force_login(resident)
    assert client.get(reverse("credit:board-privacy")).status_code == 200
    client.post(reverse("credit:board-privacy"), {"opt_out": "1"})
    assert RedListOptOut.objects.filter(resident=world.resident_a).exists()
    client.post(reverse("credit:board-privacy"), {"opt_out": "0"})
    assert not RedListOptOut.objects.exists()


def test_board_list_query_count_is_constant(
    client: Any, world: Any, staff: Any, resident: Any, django_assert_max_num_queries: Any
) -> None:
    for month in range(1, 11):
        publish(staff, world, period_start=dt.date(2026, month, 1))
    client.force_login(resident)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("credit:boards")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("credit-api:board-list")).status_code == 200


# --- API -------------------------------------------------------------------------------


def test_api_lists_boards_of_the_callers_community(
    client: Any, world: Any, resident: Any, board: BoardSnapshot
) -> None:
    client.force_login(resident)
    data = client.get(reverse("credit-api:board-list")).json()
    assert [b["id"] for b in data["results"]] == [board.pk]
    assert data["results"][0]["red_rows"][0] == {
        "rank": 1,
        "name": "张**",
        "building": world.building_a.number,
        "points": 12,
    }
    assert client.get(reverse("credit-api:board-detail", args=[board.pk])).status_code == 200


def test_outsider_is_denied_board_api(
    client: Any, world: Any, outsider: Any, board: BoardSnapshot
) -> None:
    client.force_login(outsider)
    assert client.get(reverse("credit-api:board-list")).json()["results"] == []
    assert client.get(reverse("credit-api:board-detail", args=[board.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("credit-api:board-list")).status_code in (401, 403)


# --- Concurrency (PostgreSQL) ------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_publishers_at_once_make_one_board(require_postgres: None, world: Any) -> None:
    staff_users = [UserFactory() for _ in range(2)]
    for user in staff_users:
        MembershipFactory(user=user, role=Membership.Role.COMMUNITY_STAFF, community=world.home)
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def run(user: Any) -> None:
        try:
            barrier.wait(timeout=30)
            result: Any = publish(user, world)
        except BaseException as exc:  # collected for the assertion below
            result = exc
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(u,)) for u in staff_users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(isinstance(o, BoardSnapshot) for o in outcomes) == 1
    refusals = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(refusals) == 1 and refusals[0].code == "published"
    assert BoardSnapshot.objects.count() == 1
    assert transaction.get_autocommit()


# --- Admin -----------------------------------------------------------------------------


def test_admin_shows_boards_of_own_community_read_only(
    client: Any, world: Any, staff: Any, board: BoardSnapshot
) -> None:
    other_board = BoardSnapshot.objects.create(
        community=world.other,
        period="month",
        period_start=OCT,
        period_end=dt.date(2026, 10, 31),
        area_kind="community",
        area_id=world.other.pk,
        area_name="邻社区榜单",
        published_by=staff,
    )
    client.force_login(staff)
    body = client.get(reverse("admin:credit_boardsnapshot_changelist")).content.decode()
    assert board.area_name in body
    assert other_board.area_name not in body
    url = reverse("admin:credit_boardsnapshot_change", args=[other_board.pk])
    assert client.get(url).status_code in (302, 404)
    assert client.get(reverse("admin:credit_boardsnapshot_add")).status_code == 403
    assert client.get(reverse("admin:credit_garbageweighing_changelist")).status_code == 200
    assert client.get(reverse("admin:credit_redlistoptout_add")).status_code == 200
