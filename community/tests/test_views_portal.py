from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from community.models import ServiceContact

pytestmark = pytest.mark.django_db


def test_resident_sees_own_household_masked(client: Any, world: Any, resident: Any) -> None:
    client.force_login(resident)
    response = client.get("/", follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("community:portal-home")
    assert world.resident_a.name in body
    assert world.resident_a.id_number_masked in body
    assert world.resident_a.phone not in body
    assert world.resident_b.name not in body


def test_service_directory_shows_street_and_own_community(
    client: Any, world: Any, resident: Any
) -> None:
    ServiceContact.objects.create(
        street=world.street, category="water", name="自来水", phone="96116"
    )
    ServiceContact.objects.create(
        street=world.street, community=world.other, category="other", name="别的社区", phone="1"
    )
    client.force_login(resident)
    body = client.get(reverse("community:portal-home")).content.decode()
    assert "自来水" in body
    assert "别的社区" not in body


def test_outsider_sees_no_household(client: Any, world: Any, outsider: Any) -> None:
    client.force_login(outsider)
    home = client.get("/").content.decode()
    assert "您的账号暂无角色" in home
    body = client.get(reverse("community:portal-home")).content.decode()
    assert world.resident_a.name not in body
