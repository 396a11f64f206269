from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from credit.models import ScoringRule
from credit.selectors.standard import standard_for
from credit.services.rules import rule_revise, standard_install

pytestmark = pytest.mark.django_db


@pytest.fixture
def standard(world: Any) -> None:
    standard_install(street=world.street)
    ScoringRule.objects.update(valid_from=dt.date(2020, 1, 1))


@pytest.fixture
def override(world: Any, standard: None) -> ScoringRule:
    """`home` pays more for recyclables than the street default."""
    return ScoringRule.objects.create(
        street=world.street,
        community=world.home,
        code="garbage-recyclables-kg",
        name="可回收物交投（本社区加码）",
        category=ScoringRule.Category.ENVIRONMENT,
        points=3,
        unit=ScoringRule.Unit.KG,
        cap_day=30,
        awarder_roles=["supermarket_clerk"],
        description="本社区试点：可回收物加倍计分。",
        valid_from=dt.date(2020, 1, 1),
    )


def _rules(community: Any) -> dict[str, Any]:
    return {r.code: r for c in standard_for(community=community) for r in c.rules}


def test_standard_resolves_community_override_instead_of_street_default(
    world: Any, override: ScoringRule
) -> None:
    home = _rules(world.home)["garbage-recyclables-kg"]
    other = _rules(world.other)["garbage-recyclables-kg"]
    assert (home.name, home.points, home.is_local) == ("可回收物交投（本社区加码）", 3, True)
    assert (other.name, other.points, other.is_local) == ("可回收物交投", 1, False)


def test_standard_shows_only_current_versions(world: Any, standard: None) -> None:
    rule = ScoringRule.objects.get(code="blood-donation", community=None)
    rule_revise(rule=rule, actor=None, points=15)
    shown = _rules(world.home)["blood-donation"]
    assert shown.points == 15


def test_standard_groups_rules_by_category_in_plain_words(world: Any, standard: None) -> None:
    categories = standard_for(community=world.home)
    assert [c.code for c in categories] == list(ScoringRule.Category.values)
    misconduct = {r.code: r for r in categories[-1].rules}
    littering = misconduct["high-rise-littering"]
    assert littering.points_text == "−20"
    assert littering.is_deduction
    assert "20" in littering.caps


def test_standard_page_shows_override_to_logged_in_member(
    client: Any, world: Any, resident: Any, override: ScoringRule
) -> None:
    client.force_login(resident)
    body = client.get(reverse("credit:standard")).content.decode()
    assert "可回收物交投（本社区加码）" in body
    assert "+3" in body
    assert "高空抛物" in body


def test_public_standard_by_code_needs_no_login(client: Any, world: Any, override: Any) -> None:
    response = client.get(reverse("credit:standard-public", args=[world.other.code]))
    body = response.content.decode()
    assert response.status_code == 200
    assert world.other.name in body
    assert "可回收物交投（本社区加码）" not in body
    assert "可回收物交投" in body


def test_unknown_community_code_is_404(client: Any, world: Any) -> None:
    assert client.get(reverse("credit:standard-public", args=["nope"])).status_code == 404


def test_outsider_is_denied_the_member_standard_page(
    client: Any, world: Any, outsider: Any, standard: None
) -> None:
    client.force_login(outsider)
    assert client.get(reverse("credit:standard")).status_code == 404


def test_anonymous_is_sent_to_login_for_member_page(client: Any, world: Any) -> None:
    response = client.get(reverse("credit:standard"))
    assert response.status_code == 302


def test_standard_page_query_count_is_small(
    client: Any, world: Any, resident: Any, override: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(resident)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("credit:standard")).status_code == 200


def test_standard_api_public_and_mine(
    client: Any, world: Any, resident: Any, outsider: Any, override: Any
) -> None:
    public = client.get(reverse("credit-api:standard-public", args=[world.home.code])).json()
    rules = {r["code"]: r for c in public["categories"] for r in c["rules"]}
    assert rules["garbage-recyclables-kg"]["points"] == 3
    client.force_login(resident)
    mine = client.get(reverse("credit-api:standard")).json()
    assert mine["community"] == world.home.code
    client.force_login(outsider)
    assert client.get(reverse("credit-api:standard")).status_code == 404
