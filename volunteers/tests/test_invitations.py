from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from volunteers import services
from volunteers.models import StewardInvitation, Team, TeamMember
from volunteers.selectors.records import invitation_outcomes
from volunteers.tests.factories import HOUR, NOW, TeamFactory

Status = StewardInvitation.Status


@pytest.fixture
def stewards(world: Any) -> Any:
    return TeamFactory(community=world.home, kind=Team.Kind.STEWARD, name="小巷管家队")


@pytest.mark.django_db
def test_a_frequent_caller_accepts_and_joins_the_stewards(
    world: Any, staff: Any, resident: Any, stewards: Team
) -> None:
    invitation = services.steward_invite(
        team=stewards, resident=world.resident_a, actor=staff, now=NOW, note="一年打了12次热线"
    )
    answered = services.steward_invitation_answer(
        invitation=invitation, accept=True, actor=resident, now=NOW + HOUR
    )
    assert answered.status == Status.ACCEPTED and answered.decided_at == NOW + HOUR
    member = TeamMember.objects.get(team=stewards, left_at__isnull=True)
    assert member.resident == world.resident_a and answered.member == member
    # Accepting again changes nothing; declining now is refused.
    services.steward_invitation_answer(
        invitation=invitation, accept=True, actor=resident, now=NOW + 2 * HOUR
    )
    with pytest.raises(ValidationError):
        services.steward_invitation_answer(
            invitation=invitation, accept=False, actor=resident, now=NOW + 2 * HOUR
        )
    assert TeamMember.objects.filter(team=stewards).count() == 1
    assert answered.history.first().history_user == resident


@pytest.mark.django_db
def test_outcomes_count_who_joined_this_way(
    world: Any, staff: Any, stewards: Team, resident: Any, outsider: Any
) -> None:
    accepted = services.steward_invite(
        team=stewards, resident=world.resident_a, actor=staff, now=NOW
    )
    declined = services.steward_invite(
        team=stewards, resident=world.resident_b, actor=staff, now=NOW
    )
    services.steward_invite(
        team=TeamFactory(community=world.home), resident=world.resident_b, actor=staff, now=NOW
    )
    services.steward_invitation_answer(invitation=accepted, accept=True, actor=resident, now=NOW)
    # Staff record an answer given on the phone.
    services.steward_invitation_answer(invitation=declined, accept=False, actor=staff, now=NOW)
    assert not TeamMember.objects.filter(resident=world.resident_b).exists()
    outcomes = invitation_outcomes(user=staff, community=world.home)
    assert (outcomes.invited, outcomes.accepted, outcomes.declined) == (1, 1, 1)
    assert outcomes.total == 3
    assert invitation_outcomes(user=outsider, community=world.home).total == 0
    assert invitation_outcomes(user=staff, community=world.other).total == 0


@pytest.mark.django_db
def test_only_staff_invite_and_only_the_invited_answer(
    world: Any, staff: Any, resident: Any, outsider: Any, stewards: Team
) -> None:
    with pytest.raises(PermissionDenied):
        services.steward_invite(team=stewards, resident=world.resident_b, actor=resident, now=NOW)
    invitation = services.steward_invite(
        team=stewards, resident=world.resident_b, actor=staff, now=NOW
    )
    for actor in (resident, outsider):  # resident is resident_a, not the invited resident_b
        with pytest.raises(PermissionDenied):
            services.steward_invitation_answer(
                invitation=invitation, accept=True, actor=actor, now=NOW
            )
    invitation.refresh_from_db()
    assert invitation.status == Status.INVITED and not TeamMember.objects.exists()


@pytest.mark.django_db
def test_one_open_invitation_per_team_and_only_residents_of_the_community(
    world: Any, staff: Any, stewards: Team
) -> None:
    services.steward_invite(team=stewards, resident=world.resident_a, actor=staff, now=NOW)
    for resident, code in ((world.resident_a, "duplicate"), (world.other_resident, "community")):
        with pytest.raises(ValidationError) as exc:
            services.steward_invite(team=stewards, resident=resident, actor=staff, now=NOW)
        assert exc.value.code == code
    services.team_member_add(team=stewards, actor=staff, now=NOW, resident=world.resident_b)
    with pytest.raises(ValidationError) as exc:
        services.steward_invite(team=stewards, resident=world.resident_b, actor=staff, now=NOW)
    assert exc.value.code == "duplicate"


@pytest.mark.django_db(transaction=True)
def test_accept_and_decline_racing_settle_on_one_answer(
    require_postgres: None, world: Any, staff: Any, resident: Any, stewards: Team
) -> None:
    invitation = services.steward_invite(
        team=stewards, resident=world.resident_a, actor=staff, now=NOW
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(accept: bool) -> None:
        try:
            barrier.wait()
            services.steward_invitation_answer(
                invitation=invitation, accept=accept, actor=resident, now=NOW
            )
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    invitation.refresh_from_db()
    joined = TeamMember.objects.filter(team=stewards, resident=world.resident_a).count()
    assert joined == (1 if invitation.status == Status.ACCEPTED else 0)
