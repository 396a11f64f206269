"""The admin: scoped reading, no status editing, categories by superusers, keys shown once."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages

from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from grievances.models import Category, Grievance, Open311Client
from grievances.selectors.open311 import open311_client_for_key
from grievances.tests.factories import Open311ClientFactory

pytestmark = pytest.mark.django_db
URL = "/admin/grievances/"


def test_office_staff_read_their_grievances_with_the_timeline(client: Any, flow: Any) -> None:
    grievance, _dispatch = flow.dispatched()
    client.force_login(flow.staff)
    body = client.get(f"{URL}grievance/").content.decode()
    assert grievance.title in body
    page = client.get(f"{URL}grievance/{grievance.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert flow.world.property_company.name in text  # the dispatch inline
    assert 'name="status"' not in text  # no status field to edit
    assert "_save" not in text


def test_the_admin_never_changes_a_status(client: Any, flow: Any) -> None:
    grievance = flow.file()
    client.force_login(flow.staff)
    response = client.post(
        f"{URL}grievance/{grievance.pk}/change/", {"status": "closed", "title": "改"}
    )
    assert response.status_code == 403
    grievance.refresh_from_db()
    assert grievance.status == Grievance.Status.SUBMITTED
    assert client.get(f"{URL}grievance/add/").status_code == 403


def test_another_communitys_staff_cannot_open_it(client: Any, flow: Any) -> None:
    grievance = flow.file()
    other = UserFactory(is_staff=True)
    MembershipFactory(user=other, role=Membership.Role.COMMUNITY_STAFF, community=flow.world.other)
    client.force_login(other)
    assert grievance.title not in client.get(f"{URL}grievance/").content.decode()
    response = client.get(f"{URL}grievance/{grievance.pk}/change/")
    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert client.get(f"{URL}grievance/{grievance.pk}/history/").status_code == 302


def test_the_callers_phone_is_masked(client: Any, flow: Any) -> None:
    grievance = flow.file(
        channel=Grievance.Channel.HOTLINE,
        submitted_by=flow.staff,
        caller_phone="13912345678",
        building=flow.world.building_a,
    )
    client.force_login(flow.staff)
    text = client.get(f"{URL}grievance/{grievance.pk}/change/").content.decode()
    assert "13912345678" not in text and "139****5678" in text


def test_categories_are_read_by_staff_and_written_by_superusers(client: Any, flow: Any) -> None:
    client.force_login(flow.staff)
    listing = client.get(f"{URL}category/").content.decode()
    assert "楼道照明" in listing
    assert client.get(f"{URL}category/add/").status_code == 403
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.post(
        f"{URL}category/add/",
        {
            "code": "facility-bench",
            "name": "座椅",
            "parent": flow.categories.repair.pk,
            "default_handler": "property_company",
            "default_tier": "routine",
            "in_contract_scope": "on",
            "attributes": "[]",
            "sort_order": 5,
            "is_active": "on",
            "children-TOTAL_FORMS": 0,
            "children-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Category.objects.get(code="facility-bench").parent == flow.categories.repair


def test_an_open311_key_is_shown_once_and_only_its_hash_is_kept(client: Any, flow: Any) -> None:
    client.force_login(flow.staff)
    response = client.post(
        f"{URL}open311client/add/",
        {"name": "12345市民热线", "community": flow.world.home.pk, "is_active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    key = re.search(r"[A-Za-z0-9_-]{40,}", shown)
    assert key is not None, shown
    app = Open311Client.objects.get(name="12345市民热线")
    assert app.key_hash == hashlib.sha256(key.group(0).encode()).hexdigest()
    assert app.key_prefix == key.group(0)[:8]
    assert open311_client_for_key(key=key.group(0)) == app
    assert key.group(0) not in client.get(f"{URL}open311client/{app.pk}/change/").content.decode()


def test_a_new_key_replaces_the_old_one(client: Any, flow: Any) -> None:
    app = Open311ClientFactory(community=flow.world.home)
    old_hash = app.key_hash
    client.force_login(flow.staff)
    response = client.post(
        f"{URL}open311client/",
        {"action": "issue_new_key", "_selected_action": [app.pk]},
        follow=True,
    )
    assert response.status_code == 200
    app.refresh_from_db()
    assert app.key_hash != old_hash
    assert open311_client_for_key(key="whatever") is None


def test_open311_clients_of_another_community_are_not_listed(client: Any, flow: Any) -> None:
    theirs = Open311ClientFactory(community=flow.world.other, name="别人的应用")
    client.force_login(flow.staff)
    assert "别人的应用" not in client.get(f"{URL}open311client/").content.decode()
    assert client.get(f"{URL}open311client/{theirs.pk}/change/").status_code == 302


def test_people_without_an_office_role_do_not_reach_the_admin(
    client: Any, flow: Any, outsider: Any
) -> None:
    outsider.is_staff = True
    outsider.save(update_fields=["is_staff"])
    client.force_login(outsider)
    assert client.get(f"{URL}grievance/").status_code == 403
    assert client.get(f"{URL}open311client/").status_code == 403
