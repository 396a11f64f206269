from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.tests.factories import UserFactory
from volunteers import services
from volunteers.models import PartyMemberRegistration, Post
from volunteers.tests.factories import NOW, PostFactory

pytestmark = pytest.mark.django_db

Status = PartyMemberRegistration.Status


def _register(world: Any) -> PartyMemberRegistration:
    return services.party_member_register(
        community=world.home,
        name=" 赵党员 ",
        phone="13800001111",
        employer="区税务局",
        party_branch="第二党支部",
        skills="调解, 法律咨询",
        free_hours="周六上午",
        now=NOW,
    )


def test_a_registration_waits_for_staff(world: Any) -> None:
    registration = _register(world)
    assert registration.status == Status.PENDING
    assert registration.name == "赵党员"


def test_name_phone_employer_and_branch_are_required(world: Any) -> None:
    with pytest.raises(ValidationError):
        services.party_member_register(
            community=world.home,
            name="赵党员",
            phone="",
            employer="区税务局",
            party_branch="第二党支部",
            now=NOW,
        )
    assert not PartyMemberRegistration.objects.exists()


def test_staff_confirm_with_a_post_and_its_duties(world: Any, staff: Any) -> None:
    services.posts_install(community=world.home)
    post = Post.objects.get(community=world.home, code="dispute-mediation")
    registration = services.registration_confirm(
        registration=_register(world), post=post, duties="", actor=staff, now=NOW
    )
    assert registration.status == Status.CONFIRMED
    assert registration.post == post and registration.duties == post.duties
    assert registration.confirmed_by == staff
    assert registration.history.first().history_user == staff


def test_a_decided_registration_stays_decided(world: Any, staff: Any) -> None:
    registration = services.registration_decline(
        registration=_register(world), actor=staff, now=NOW
    )
    post = PostFactory(community=world.home)
    with pytest.raises(ValidationError) as exc:
        services.registration_confirm(
            registration=registration, post=post, duties="x", actor=staff, now=NOW
        )
    assert exc.value.code == "decided"


def test_outsider_and_other_communitys_post_are_refused(
    world: Any, outsider: Any, staff: Any
) -> None:
    registration = _register(world)
    with pytest.raises(PermissionDenied):
        services.registration_decline(registration=registration, actor=outsider, now=NOW)
    with pytest.raises(ValidationError):
        services.registration_confirm(
            registration=registration,
            post=PostFactory(community=world.other),
            duties="x",
            actor=staff,
            now=NOW,
        )
    registration.refresh_from_db()
    assert registration.status == Status.PENDING


def test_a_member_registers_once_per_community_until_declined(world: Any, staff: Any) -> None:
    user = UserFactory()
    fields = {
        "community": world.home,
        "name": "党员",
        "phone": "13900000000",
        "employer": "区税务局",
        "party_branch": "第一支部",
        "user": user,
        "now": NOW,
    }
    first = services.party_member_register(**fields)
    with pytest.raises(ValidationError) as exc:
        services.party_member_register(**fields)
    assert exc.value.code == "duplicate"
    services.registration_decline(registration=first, actor=staff, now=NOW)
    assert services.party_member_register(**fields).pk != first.pk
