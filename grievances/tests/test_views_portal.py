"""My reports (我的诉求): the household's grievances, and what grid workers filed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone, translation

from community.models import Membership
from community.tests.factories import MembershipFactory, ResidentFactory, UserFactory
from grievances.models import Grievance
from grievances.tests.factories import GrievanceFactory

pytestmark = pytest.mark.django_db
Status = Grievance.Status
Channel = Grievance.Channel
MINE = "/grievances/mine/"


def _grievance(world: Any, categories: Any, minutes_ago: int = 10, **kwargs: Any) -> Grievance:
    values: dict[str, Any] = {
        "community": world.home,
        "estate": world.estate,
        "building": world.building_a,
        "category": categories.lamp,
        "submitted_at": timezone.now() - dt.timedelta(minutes=minutes_ago),
    }
    values.update(kwargs)
    grievance: Grievance = GrievanceFactory.create(**values)
    return grievance


def _ids(html: str) -> list[int]:
    return [int(chunk.split('"', 1)[0]) for chunk in html.split('id="grievance-')[1:]]


def test_resident_sees_their_households_reports_newest_first(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    spouse = ResidentFactory(household=world.household_a, name="张太太")
    at_home = _grievance(world, categories, 30, household=world.household_a, title="家里漏水")
    own = _grievance(world, categories, 20, reporter=world.resident_a, title="我报的路灯")
    by_spouse = _grievance(
        world, categories, 10, reporter=spouse, building=world.building_b, title="配偶报的"
    )
    _grievance(world, categories, 5, household=world.household_b, title="邻居家的")
    _grievance(world, categories, 5, reporter=world.resident_b, title="邻居报的")
    _grievance(world, categories, 5, community=world.other, title="别的社区")
    _grievance(world, categories, 1, title="网格员巡查", channel=Channel.PATROL)
    client.force_login(resident)
    response = client.get(MINE)
    assert response.status_code == 200
    html = response.content.decode()
    assert _ids(html) == [by_spouse.pk, own.pk, at_home.pk]
    for title in ("邻居家的", "邻居报的", "别的社区", "网格员巡查"):
        assert title not in html
    assert f'href="/grievances/{own.pk}/"' in html  # each links to its page


def test_statuses_are_shown_in_chinese_and_resolved_ones_ask_for_a_rating(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    resolved = _grievance(world, categories, 2, reporter=world.resident_a, status=Status.RESOLVED)
    waiting = _grievance(world, categories, 1, reporter=world.resident_a, status=Status.DISPATCHED)
    client.force_login(resident)
    html = client.get(MINE).content.decode()
    with translation.override("zh-hans"):
        assert str(Status.RESOLVED.label) in html and str(Status.DISPATCHED.label) in html
    highlighted = [chunk for chunk in html.split("<a ") if "data-awaiting-rating" in chunk]
    assert len(highlighted) == 1 and f'id="grievance-{resolved.pk}"' in highlighted[0]
    assert f'id="grievance-{waiting.pk}"' not in highlighted[0]


def test_anonymous_suggestions_are_nobodys(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    _grievance(
        world,
        categories,
        household=None,
        is_anonymous=True,
        channel=Channel.SUGGESTION_BOX,
        title="匿名意见",
    )
    client.force_login(resident)
    assert "匿名意见" not in client.get(MINE).content.decode()


def test_a_grid_worker_sees_what_they_filed(
    client: Any, world: Any, grid_worker: Any, categories: Any
) -> None:
    found = _grievance(world, categories, 5, submitted_by=grid_worker, channel=Channel.PATROL)
    _grievance(world, categories, 1, title="居民自己报的", reporter=world.resident_a)
    client.force_login(grid_worker)
    html = client.get(MINE).content.decode()
    assert _ids(html) == [found.pk]
    assert "居民自己报的" not in html


def test_a_resident_who_is_a_grid_worker_switches_lists(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    MembershipFactory(user=resident, role=Membership.Role.GRID_WORKER, grid=world.grid_b)
    home = _grievance(world, categories, 5, reporter=world.resident_a)
    found = _grievance(
        world,
        categories,
        1,
        submitted_by=resident,
        channel=Channel.PATROL,
        building=world.building_b,
    )
    client.force_login(resident)
    assert _ids(client.get(MINE).content.decode()) == [home.pk]
    filed = client.get(MINE, {"list": "filed"}).content.decode()
    assert _ids(filed) == [found.pk]
    assert "?list=household" in filed


def test_the_list_is_paged_by_twenty(
    client: Any, world: Any, resident: Any, categories: Any
) -> None:
    made = [_grievance(world, categories, 100 - i, reporter=world.resident_a) for i in range(25)]
    client.force_login(resident)
    first = client.get(MINE).content.decode()
    second = client.get(MINE, {"page": 2}).content.decode()
    assert _ids(first) == [g.pk for g in reversed(made)][:20]
    assert _ids(second) == [g.pk for g in reversed(made)][20:]
    assert "?list=household&amp;page=2" in first


@pytest.mark.parametrize("rows", [1, 25])
def test_the_list_takes_the_same_queries_for_one_or_many(
    client: Any,
    world: Any,
    resident: Any,
    categories: Any,
    rows: int,
    django_assert_num_queries: Any,
) -> None:
    """Session, user, roles, resident, count, page, unread badge: the same for 1 or 25."""
    for i in range(rows):
        _grievance(
            world,
            categories,
            i,
            reporter=world.resident_a,
            status=Status.RESOLVED if i % 2 else Status.SUBMITTED,
            building=world.building_a if i % 3 else world.building_b,
        )
    client.force_login(resident)
    with django_assert_num_queries(7):
        response = client.get(MINE)
    assert response.status_code == 200


def test_filed_by_me_takes_the_same_queries_for_one_or_many(
    client: Any,
    world: Any,
    grid_worker: Any,
    categories: Any,
    django_assert_max_num_queries: Any,
) -> None:
    for i in range(25):
        _grievance(world, categories, i, submitted_by=grid_worker, channel=Channel.PATROL)
    client.force_login(grid_worker)
    with django_assert_max_num_queries(6):
        response = client.get(MINE)
    assert response.status_code == 200


def test_outsider_is_denied(client: Any, world: Any, outsider: Any, categories: Any) -> None:
    _grievance(world, categories, reporter=world.resident_a, title="张家的")
    client.force_login(outsider)
    response = client.get(MINE)
    assert response.status_code == 403
    assert "张家的" not in response.content.decode()


def test_a_resident_of_another_household_never_sees_ours(
    client: Any, world: Any, categories: Any
) -> None:
    _grievance(
        world, categories, reporter=world.resident_a, household=world.household_a, title="张家的"
    )
    neighbour = UserFactory(name="李秀英")
    world.resident_b.user = neighbour
    world.resident_b.save(update_fields=["user"])
    client.force_login(neighbour)
    response = client.get(MINE)
    assert response.status_code == 200 and "张家的" not in response.content.decode()
