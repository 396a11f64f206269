"""The grievance page (/grievances/<pk>/) and its photos (/grievances/photos/<pk>/).

Grievances are walked through the services by `flow` (grievances/tests/conftest.py),
starting two hours before the real clock: the page computes time left from the clock
columns against the real time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community.tests.factories import UserFactory
from grievances import services
from grievances.models import Attachment, Grievance, SlaClock, Tier
from grievances.tests.conftest import Flow
from grievances.tests.factories import photo_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(flow: Flow) -> Flow:
    """The flow, two hours ago: what it does happened just now for the pages."""
    flow.now = timezone.now() - dt.timedelta(hours=2)
    return flow


def page(client: Client, user: Any, grievance: Grievance, *, english: bool = True) -> Any:
    client.force_login(user)
    if english:
        client.cookies["django_language"] = "en"
    return client.get(reverse("grievances:detail", args=[grievance.pk]))


@pytest.fixture
def neighbour(world: Any) -> Any:
    """A resident of another household of the same community, with a login."""
    user = UserFactory(name="李秀英")
    world.resident_b.user = user
    world.resident_b.save(update_fields=["user"])
    return user


def test_reporter_sees_header_timeline_and_clocks(
    client: Client, live: Flow, resident: Any
) -> None:
    grievance, _dispatch = live.taken(title="三楼楼道灯不亮")
    response = page(client, resident, grievance)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"#{grievance.pk}" in body and "三楼楼道灯不亮" in body
    assert 'data-status="dispatched"' in body
    assert "dispatched</span>" in body  # the status badge, in words
    # The clocks the handler's acceptance started: on site in 10 minutes, solved in 1 hour.
    assert 'data-kind="arrive"' in body and 'data-kind="resolve"' in body
    # The timeline tells the story in order.
    kinds = [k for k in ("filed", "accepted by the handler") if k in body]
    assert kinds == ["filed", "accepted by the handler"]
    assert body.index(">filed<") < body.index("accepted by the handler")


def test_clock_shows_time_left_then_overdue_computed_from_columns(
    client: Client, flow: Flow, resident: Any
) -> None:
    flow.now = timezone.now() - dt.timedelta(minutes=5)
    grievance, _dispatch = flow.taken()
    body = page(client, resident, grievance).content.decode()
    arrive = SlaClock.objects.get(grievance=grievance, kind="arrive")
    # Accepted about a minute ago: on site within 10 minutes, so 6–9 minutes are left.
    left = int((arrive.due_at - timezone.now()).total_seconds() // 60) + 1
    assert f"{left} min left" in body
    # Nobody swept: the page still knows the arrival is overdue once the due time passed.
    SlaClock.objects.filter(pk=arrive.pk).update(
        due_at=timezone.now() - dt.timedelta(hours=2, minutes=3)
    )
    body = page(client, resident, grievance).content.decode()
    assert "2 h 03 min overdue" in body
    assert 'data-kind="arrive" data-state="running" data-overdue' in body


def test_paused_and_met_clocks(client: Client, live: Flow, staff: Any, property_staff: Any) -> None:
    grievance = live.on_site()
    body = page(client, staff, grievance).content.decode()
    assert "Met on time" in body  # arrived a minute after accepting
    services.grievance_wait(
        grievance=grievance, actor=property_staff, reason="等配件", now=timezone.now()
    )
    body = page(client, staff, grievance).content.decode()
    assert "Paused: " in body
    assert 'data-kind="resolve" data-state="paused"' in body
    assert "等配件" in body


def test_clocks_partial_for_the_htmx_refresh(client: Client, live: Flow, resident: Any) -> None:
    grievance, _dispatch = live.taken()
    client.force_login(resident)
    response = client.get(reverse("grievances:detail", args=[grievance.pk]) + "?part=clocks")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith("<section") and "<html" not in body
    assert 'hx-trigger="every 60s"' in body


def test_internal_notes_hidden_from_the_resident(
    client: Client, live: Flow, resident: Any, staff: Any, property_staff: Any
) -> None:
    grievance, _dispatch = live.taken()
    services.grievance_progress_add(
        grievance=grievance,
        actor=staff,
        note="内部：该户曾多次投诉",
        now=live.tick(),
        is_public=False,
        photos=[photo_upload("internal.jpg")],
    )
    services.grievance_progress_add(
        grievance=grievance, actor=property_staff, note="师傅已出发", now=live.tick()
    )
    internal_photo = Attachment.objects.get(grievance=grievance)
    mine = page(client, resident, grievance).content.decode()
    assert "师傅已出发" in mine
    assert "内部：该户曾多次投诉" not in mine
    assert reverse("grievances:photo", args=[internal_photo.pk]) not in mine
    for worker in (staff, property_staff):
        theirs = page(client, worker, grievance).content.decode()
        assert "内部：该户曾多次投诉" in theirs
        assert reverse("grievances:photo", args=[internal_photo.pk]) in theirs


def test_reporter_is_masked_to_the_handler_and_whole_for_the_office(
    client: Client, live: Flow, world: Any, staff: Any, property_staff: Any
) -> None:
    world.resident_a.phone = "13800138000"
    world.resident_a.save(update_fields=["phone"])
    grievance, _dispatch = live.taken()
    office = page(client, staff, grievance).content.decode()
    assert "张建国" in office and "13800138000" in office
    handler = page(client, property_staff, grievance).content.decode()
    assert "张建国" not in handler and "13800138000" not in handler
    assert "张**" in handler and "138****8000" in handler


def test_outsider_and_neighbour_get_404_for_page_clocks_and_photos(
    client: Client, live: Flow, outsider: Any, neighbour: Any
) -> None:
    grievance = live.file(photos=[photo_upload("report.jpg")])
    photo = Attachment.objects.get(grievance=grievance)
    for user in (outsider, neighbour):
        client.force_login(user)
        url = reverse("grievances:detail", args=[grievance.pk])
        assert client.get(url).status_code == 404
        assert client.get(url + "?part=clocks").status_code == 404
        assert client.get(reverse("grievances:photo", args=[photo.pk])).status_code == 404
    client.logout()
    response = client.get(reverse("grievances:detail", args=[grievance.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_photo_is_served_privately_to_parties(
    client: Client, live: Flow, resident: Any, staff: Any, property_staff: Any
) -> None:
    grievance = live.file(photos=[photo_upload("report.jpg")])
    photo = Attachment.objects.get(grievance=grievance)
    url = reverse("grievances:photo", args=[photo.pk])
    client.force_login(resident)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    data = b"".join(response.streaming_content)
    assert data[:3] == b"\xff\xd8\xff"  # a JPEG, as stored
    # Not yet dispatched: the property company is no party to it.
    client.force_login(property_staff)
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 200
    assert client.get(reverse("grievances:photo", args=[photo.pk + 1000])).status_code == 404
    assert client.post(url).status_code == 405


def test_page_shows_photos_as_thumbnails_linking_to_the_photo_view(
    client: Client, live: Flow, resident: Any
) -> None:
    grievance = live.file(photos=[photo_upload("a.jpg"), photo_upload("b.jpg")])
    body = page(client, resident, grievance).content.decode()
    for photo in Attachment.objects.filter(grievance=grievance):
        assert f'href="{reverse("grievances:photo", args=[photo.pk])}"' in body


def test_street_supervisor_reads_without_actions(
    client: Client, live: Flow, street_supervisor: Any
) -> None:
    grievance, _dispatch = live.dispatched()
    body = page(client, street_supervisor, grievance).content.decode()
    assert "What you can do now" not in body
    assert "data-action=" not in body


def test_each_party_sees_its_own_actions(
    client: Client, live: Flow, resident: Any, staff: Any, property_staff: Any
) -> None:
    grievance = live.file()
    assert 'data-action="accept"' in page(client, staff, grievance).content.decode()
    assert "data-action=" not in page(client, resident, grievance).content.decode()
    services.grievance_dispatch(
        grievance=grievance, actor=staff, now=live.tick(), organization=live.world.property_company
    )
    handler = page(client, property_staff, grievance).content.decode()
    assert 'data-action="dispatch-accept"' in handler
    assert 'data-action="dispatch-decline"' in handler
    assert 'data-action="check-in"' not in handler
    office = page(client, staff, grievance).content.decode()
    assert 'data-action="dispatch-withdraw"' in office
    assert 'data-action="dispatch-accept"' not in office


def test_dispatch_form_preselects_the_default_receiver(
    client: Client, live: Flow, staff: Any, world: Any
) -> None:
    grievance = live.accepted()
    body = page(client, staff, grievance).content.decode()
    assert f'<option value="org:{world.property_company.pk}" selected>' in body


def test_complex_grievance_offers_a_plan(client: Client, live: Flow, property_staff: Any) -> None:
    grievance, dispatch = live.dispatched()
    services.dispatch_accept(
        dispatch=dispatch, actor=property_staff, now=live.tick(), tier=Tier.COMPLEX
    )
    body = page(client, property_staff, grievance).content.decode()
    assert 'data-action="plan"' in body
    assert 'data-kind="plan"' in body


def test_page_in_chinese_by_default(client: Client, live: Flow, resident: Any) -> None:
    grievance, _dispatch = live.taken()
    response = page(client, resident, grievance, english=False)
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


def test_page_query_count_does_not_grow_with_the_timeline(
    client: Client,
    live: Flow,
    staff: Any,
    property_staff: Any,
    django_assert_max_num_queries: Any,
) -> None:
    grievance = live.on_site()
    client.force_login(staff)
    url = reverse("grievances:detail", args=[grievance.pk])
    with django_assert_max_num_queries(20) as few:
        assert client.get(url).status_code == 200
    for n in range(12):
        services.grievance_progress_add(
            grievance=grievance,
            actor=property_staff,
            note=f"进展{n}",
            now=live.tick(),
            photos=[photo_upload(f"p{n}.jpg")] if n % 3 == 0 else [],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_office_finds_the_handlers_work_folded_away(
    client: Client, live: Flow, staff: Any, property_staff: Any
) -> None:
    grievance, _dispatch = live.taken()
    office = page(client, staff, grievance).content.decode()
    folded = office.index('data-group="for-handler"')
    assert office.index('data-action="check-in"') > folded
    assert office.index('data-action="dispatch-withdraw"') > 0
    handler = page(client, property_staff, grievance).content.decode()
    assert 'data-group="for-handler"' not in handler
    assert 'data-action="check-in" open' in handler
