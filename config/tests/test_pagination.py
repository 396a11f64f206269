"""The page links of a paged list (templates/pagination.html) keep the rest of the query."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from community.models import Organization
from community.tests.factories import OrganizationFactory
from property_mgmt.tests.factories_surveys import BlacklistEntryFactory

pytestmark = pytest.mark.django_db


def test_the_next_page_link_keeps_the_chosen_community(client: Any, world: Any, staff: Any) -> None:
    for _n in range(25):  # two pages of 20
        company = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY)
        BlacklistEntryFactory(community=world.home, provider=company)
    client.force_login(staff)
    response = client.get(reverse("property:blacklist-office"), {"community": world.home.pk})
    assert response.status_code == 200
    assert response.context["page"].has_next()
    body = response.content.decode()
    assert f'href="?community={world.home.pk}&amp;page=2"' in body

    second = client.get(
        reverse("property:blacklist-office"), {"community": world.home.pk, "page": 2}
    )
    assert f'href="?community={world.home.pk}&amp;page=1"' in second.content.decode()
    assert "page=2&amp;page" not in second.content.decode()  # page is replaced, not added
