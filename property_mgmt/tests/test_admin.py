"""The admin: the office reads its own communities' contracts and the rest read only;
it edits its black-list rules; other communities' staff and the outsider see nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from community.models import Membership
from community.tests.factories import EstateFactory, MembershipFactory, UserFactory
from property_mgmt.models import BlacklistRule
from property_mgmt.tests.factories import ServiceContractFactory

pytestmark = pytest.mark.django_db
URL = "/admin/property_mgmt/"


def _office(world: Any, community: Any) -> Any:
    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, role=Membership.Role.COMMUNITY_STAFF, community=community)
    return user


def test_the_office_reads_its_contracts_and_cannot_change_them(client: Any, world: Any) -> None:
    mine = ServiceContractFactory(estate=world.estate, provider=world.property_company)
    theirs = ServiceContractFactory(estate=EstateFactory(community=world.other))
    client.force_login(_office(world, world.home))
    listing = client.get(f"{URL}servicecontract/").content.decode()
    assert str(mine.estate) in listing and str(theirs.estate) not in listing
    page = client.get(f"{URL}servicecontract/{mine.pk}/change/").content.decode()
    assert "_save" not in page
    assert client.get(f"{URL}servicecontract/{theirs.pk}/change/").status_code == 302
    response = client.post(f"{URL}servicecontract/{mine.pk}/change/", {"fee_standard": "0.01"})
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.fee_standard == Decimal("1.50")


def test_the_office_sets_its_black_list_thresholds(client: Any, world: Any) -> None:
    client.force_login(_office(world, world.home))
    response = client.post(
        f"{URL}blacklistrule/add/",
        {
            "community": world.home.pk,
            "metric": "satisfaction",
            "comparison": "below",
            "threshold": "3.0",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert BlacklistRule.objects.get().community == world.home
    # Not for a community it does not run.
    response = client.post(
        f"{URL}blacklistrule/add/",
        {
            "community": world.other.pk,
            "metric": "reopen_rate",
            "comparison": "above",
            "threshold": "0.2",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert BlacklistRule.objects.count() == 1


def test_the_outsider_and_property_staff_do_not_see_the_module(
    client: Any, world: Any, outsider: Any, property_staff: Any
) -> None:
    ServiceContractFactory(estate=world.estate)
    for user in (outsider, property_staff):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        client.force_login(user)
        assert client.get(f"{URL}servicecontract/").status_code == 403
