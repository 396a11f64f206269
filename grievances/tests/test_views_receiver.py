"""The receivers' queue (/grievances/work/): property staff, partner staff and people named
on work orders see what waits for their answer and what is in their hands, the least
time left first, and take pending work orders from the row."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grievances import services
from grievances.models import Dispatch, Grievance, SlaClock
from grievances.tests.conftest import Flow

pytestmark = pytest.mark.django_db
QUEUE = "/grievances/work/"


@pytest.fixture
def live(flow: Flow) -> Flow:
    flow.now = timezone.now() - dt.timedelta(hours=3)
    return flow


def queue(client: Client, user: Any, query: str = "") -> Any:
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client.get(reverse("grievances:queue") + query)


def rows(body: str) -> list[int]:
    return [
        int(pk) for pk in re.findall(r'class="list-group-item queue-row[^"]*" id="g-(\d+)"', body)
    ]


def test_queue_url() -> None:
    assert reverse("grievances:queue") == QUEUE


def test_queue_sorted_by_time_left_with_pending_orders_to_take(
    client: Client, live: Flow, property_staff: Any, staff: Any
) -> None:
    in_hand, _d = live.taken(title="在手的")  # arrive due 10 minutes after it was taken
    on_site = live.on_site(title="到场的")  # arrive met; resolve due an hour after taking
    pending, pending_dispatch = live.dispatched(title="待接单")  # no clock runs yet
    later, _d = live.taken(title="后接的")  # taken last: arrives due last
    elsewhere = live.file(title="没派单的")
    resolved = live.resolved(title="已办结")
    body = queue(client, property_staff).content.decode()
    order = rows(body)
    assert elsewhere.pk not in order and resolved.pk not in order
    due = {
        g.pk: SlaClock.objects.filter(grievance=g, state="running").order_by("due_at")[0].due_at
        for g in (in_hand, on_site, later)
    }
    assert order[:3] == sorted(due, key=due.__getitem__)
    assert order[3] == pending.pk  # waiting for an answer: no clock of the promise runs yet
    # Time left is computed from the clocks: all of these are hours overdue by now.
    assert re.search(rf'id="g-{in_hand.pk}".*?h \d\d min overdue', body, re.S)
    # The pending one is taken right from the row.
    form = re.search(rf'id="g-{pending.pk}".*?</form>', body, re.S)
    assert form is not None
    assert f'name="dispatch" value="{pending_dispatch.pk}"' in form.group(0)
    assert 'data-action="dispatch-accept"' in form.group(0)
    assert body.count('data-action="dispatch-accept"') == 1


def test_inline_accept_goes_back_to_the_queue(
    client: Client, live: Flow, property_staff: Any
) -> None:
    grievance, dispatch = live.dispatched()
    client.force_login(property_staff)
    response = client.post(
        reverse("grievances:action", args=[grievance.pk, "dispatch-accept"]),
        {"dispatch": dispatch.pk, "next": QUEUE},
    )
    assert response.status_code == 302 and response["Location"] == QUEUE
    dispatch.refresh_from_db()
    assert dispatch.status == Dispatch.Status.ACCEPTED
    body = client.get(QUEUE).content.decode()
    assert rows(body) == [grievance.pk]
    assert 'data-action="dispatch-accept"' not in body


def test_a_person_named_on_a_work_order_has_a_queue(
    client: Client, live: Flow, staff: Any, grid_worker: Any
) -> None:
    grievance = live.accepted()
    assert queue(client, grid_worker).status_code == 404  # nothing was ever sent to them
    services.grievance_dispatch(
        grievance=grievance, actor=staff, now=live.tick(), assignee=grid_worker
    )
    assert rows(queue(client, grid_worker).content.decode()) == [grievance.pk]


def test_outsider_and_resident_have_no_queue(
    client: Client, live: Flow, outsider: Any, resident: Any
) -> None:
    live.dispatched()
    assert queue(client, outsider).status_code == 404
    assert queue(client, resident).status_code == 404
    client.logout()
    assert client.get(QUEUE).status_code == 302


def test_another_company_sees_none_of_ours(client: Client, live: Flow) -> None:
    from community.models import Organization
    from community.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

    live.taken()
    stranger = UserFactory()
    MembershipFactory(
        user=stranger,
        role="property_staff",
        organization=OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY),
    )
    response = queue(client, stranger)
    assert response.status_code == 200
    assert rows(response.content.decode()) == []
    assert "No work orders for you right now." in response.content.decode()


def test_queue_pages_by_twenty(client: Client, live: Flow, property_staff: Any) -> None:
    for _n in range(21):
        live.dispatched()
    first = queue(client, property_staff)
    assert len(rows(first.content.decode())) == 20
    second = queue(client, property_staff, "?page=2")
    assert len(rows(second.content.decode())) == 1


def test_queue_query_count_is_constant(
    client: Client, live: Flow, property_staff: Any, django_assert_max_num_queries: Any
) -> None:
    live.taken()
    client.force_login(property_staff)
    with django_assert_max_num_queries(10) as one:
        assert client.get(QUEUE).status_code == 200
    for _n in range(8):
        live.taken()
        live.dispatched()
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(QUEUE)
    assert len(rows(response.content.decode())) == 17
    assert Grievance.objects.count() == 17
