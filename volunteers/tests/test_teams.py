from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from volunteers import services
from volunteers.models import Team, TeamMember
from volunteers.tests.factories import HOUR, NOW, TeamFactory

pytestmark = pytest.mark.django_db


def test_staff_add_a_resident_and_an_outside_party_member(world: Any, staff: Any) -> None:
    team = TeamFactory(community=world.home, kind=Team.Kind.STEWARD, name="小巷管家队")
    services.team_member_add(team=team, actor=staff, now=NOW, resident=world.resident_a)
    outside = services.team_member_add(
        team=team, actor=staff, now=NOW, name="钱党员", employer="区财政局", party_branch="机关支部"
    )
    assert TeamMember.objects.filter(team=team, left_at__isnull=True).count() == 2
    assert outside.history.first().history_user == staff


def test_nobody_is_on_a_team_twice(world: Any, staff: Any) -> None:
    team = TeamFactory(community=world.home)
    services.team_member_add(team=team, actor=staff, now=NOW, resident=world.resident_a)
    with pytest.raises(ValidationError) as exc:
        services.team_member_add(team=team, actor=staff, now=NOW, resident=world.resident_a)
    assert exc.value.code == "duplicate"


def test_a_member_who_left_may_join_again(world: Any, staff: Any, resident: Any) -> None:
    team = TeamFactory(community=world.home)
    member = services.team_member_add(team=team, actor=staff, now=NOW, user=resident)
    services.team_member_leave(member=member, actor=resident, now=NOW + HOUR)
    member.refresh_from_db()
    assert member.left_at == NOW + HOUR
    services.team_member_add(team=team, actor=staff, now=NOW + 2 * HOUR, user=resident)
    assert TeamMember.objects.filter(team=team, user=resident).count() == 2


def test_the_leader_manages_the_roster_an_outsider_may_not(
    world: Any, resident: Any, outsider: Any
) -> None:
    team = TeamFactory(community=world.home, leader=resident)
    services.team_member_add(team=team, actor=resident, now=NOW, name="孙阿姨")
    with pytest.raises(PermissionDenied):
        services.team_member_add(team=team, actor=outsider, now=NOW, name="周大爷")
    assert list(TeamMember.objects.filter(team=team).values_list("name", flat=True)) == ["孙阿姨"]
