from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from credit.models import PointsEntry
from credit.services import account_for, points_award, rule_for
from volunteers import services
from volunteers.models import Award
from volunteers.selectors.records import honour_roll
from volunteers.tests.factories import NOW

pytestmark = pytest.mark.django_db


def test_staff_honour_a_resident_with_points_paid_once(
    world: Any, staff: Any, standard: None
) -> None:
    award = services.award_grant(
        community=world.home,
        title=Award.Title.GOOD_NEIGHBOUR,
        recipient_resident=world.resident_a,
        citation="常年照顾独居老人",
        actor=staff,
        now=NOW,
        with_points=True,
    )
    assert award.points == 20
    assert account_for(resident=world.resident_a).balance == 20
    entry = PointsEntry.objects.get(idempotency_key=f"volunteer-award:{award.pk}")
    # A retry under the award's key pays nothing more.
    rule = rule_for(community=world.home, code=services.AWARD_RULE_CODE)
    replay = points_award(
        resident=world.resident_a,
        rule=rule,
        key=f"volunteer-award:{award.pk}",
        now=NOW,
        actor=staff,
    )
    assert replay.pk == entry.pk
    assert account_for(resident=world.resident_a).balance == 20


def test_an_award_without_points_touches_no_account(world: Any, staff: Any) -> None:
    award = services.award_grant(
        community=world.home,
        title=Award.Title.PARTY_MEMBER,
        recipient_name="钱党员",
        actor=staff,
        now=NOW,
    )
    assert award.points is None and not PointsEntry.objects.exists()
    assert award.title_display == "优秀党员"


def test_only_staff_of_the_community_award(
    world: Any, resident: Any, outsider: Any, staff: Any
) -> None:
    for actor in (resident, outsider):
        with pytest.raises(PermissionDenied):
            services.award_grant(
                community=world.home,
                title=Award.Title.VOLUNTEER,
                recipient_name="孙阿姨",
                actor=actor,
                now=NOW,
            )
    with pytest.raises(PermissionDenied):  # staff of home, not of the other community
        services.award_grant(
            community=world.other,
            title=Award.Title.VOLUNTEER,
            recipient_name="孙阿姨",
            actor=staff,
            now=NOW,
        )
    assert not Award.objects.exists()


def test_an_award_names_its_title_and_recipient(world: Any, staff: Any) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": Award.Title.OTHER, "recipient_name": "孙阿姨"}, "title_other"),
        ({"title": Award.Title.VOLUNTEER}, "recipient"),
        (
            {"title": Award.Title.VOLUNTEER, "recipient_name": "钱", "with_points": True},
            "no_account",
        ),
        (
            {"title": Award.Title.VOLUNTEER, "recipient_resident": world.other_resident},
            "community",
        ),
    ]
    for kwargs, code in cases:
        with pytest.raises(ValidationError) as exc:
            services.award_grant(community=world.home, actor=staff, now=NOW, **kwargs)
        assert exc.value.code == code
    award = services.award_grant(
        community=world.home,
        title=Award.Title.OTHER,
        title_other="最美楼道长",
        recipient_name="孙阿姨",
        actor=staff,
        now=NOW,
    )
    assert award.title_display == "最美楼道长"


def test_the_honour_roll_masks_names_and_hides_private_awards(
    world: Any, staff: Any, resident: Any
) -> None:
    def grant(**kwargs: Any) -> Award:
        values: dict[str, Any] = {"community": world.home, "actor": staff, "now": NOW}
        values.update(kwargs)
        return services.award_grant(**values)

    grant(title=Award.Title.GOOD_NEIGHBOUR, recipient_resident=world.resident_a, citation="热心")
    grant(title=Award.Title.UNIT_HEAD, recipient_user=resident, now=NOW - dt.timedelta(days=400))
    grant(title=Award.Title.VOLUNTEER, recipient_name="李秀英", is_public=False)

    roll = honour_roll(community=world.home)
    assert [(e.title, e.name) for e in roll] == [
        ("身边好人", "张**"),
        ("优秀单元长", "张**"),
    ]
    assert roll[0].citation == "热心"
    assert "张建国" not in repr(roll) and "李" not in repr(roll)
    assert [e.name for e in honour_roll(community=world.home, year=NOW.year)] == ["张**"]
    assert honour_roll(community=world.other) == []


def _grant_with_points(world: Any, staff: Any) -> Award:
    return services.award_grant(
        community=world.home,
        title=Award.Title.GOOD_NEIGHBOUR,
        recipient_resident=world.resident_a,
        actor=staff,
        now=NOW,
        with_points=True,
    )


def test_points_need_the_scoring_standard(world: Any, staff: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        _grant_with_points(world, staff)
    assert exc.value.code == "no_rule"
    assert not Award.objects.exists()


def test_at_the_yearly_cap_an_award_with_points_is_refused_whole(
    world: Any, staff: Any, standard: None
) -> None:
    _grant_with_points(world, staff)
    _grant_with_points(world, staff)  # 40 points: the rule's yearly cap
    with pytest.raises(ValidationError) as exc:
        _grant_with_points(world, staff)
    assert exc.value.code == "cap_reached"
    assert Award.objects.count() == 2
    assert account_for(resident=world.resident_a).balance == 40
