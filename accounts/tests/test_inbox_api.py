"""/api/v1/inbox/: my notifications, and marking one read."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Notification
from accounts.notifications import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def test_anonymous_callers_are_refused(api: APIClient, resident: Any) -> None:
    [notification] = notify(users=[resident], subject="工单已升级")
    assert api.get(reverse("inbox-api:list")).status_code in (401, 403)
    response = api.post(reverse("inbox-api:read", args=[notification.pk]))
    assert response.status_code in (401, 403)
    notification.refresh_from_db()
    assert notification.read_at is None


def test_an_outsider_sees_only_their_own_and_cannot_read_anothers(
    api: APIClient, resident: Any, outsider: Any
) -> None:
    [theirs] = notify(users=[resident], subject="张建国的消息")
    notify(users=[outsider], subject="路人甲的消息")
    api.force_authenticate(outsider)
    rows = api.get(reverse("inbox-api:list")).json()["results"]
    assert [row["subject"] for row in rows] == ["路人甲的消息"]
    assert api.post(reverse("inbox-api:read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_list_is_cursor_paged_newest_first_and_filters_unread(
    api: APIClient, resident: Any
) -> None:
    created = [notify(users=[resident], subject=f"消息{i}")[0] for i in range(5)]
    api.force_authenticate(resident)
    api.post(reverse("inbox-api:read", args=[created[4].pk]))

    first = api.get(reverse("inbox-api:list"), {"page_size": 3}).json()
    assert [row["subject"] for row in first["results"]] == ["消息4", "消息3", "消息2"]
    second = api.get(first["next"]).json()
    assert [row["subject"] for row in second["results"]] == ["消息1", "消息0"]
    assert second["next"] is None

    unread = api.get(reverse("inbox-api:list"), {"unread": "true"}).json()["results"]
    assert [row["subject"] for row in unread] == ["消息3", "消息2", "消息1", "消息0"]


def test_reading_one_sets_read_at_once_and_shows_only_a_local_link(
    api: APIClient, resident: Any
) -> None:
    [local] = notify(users=[resident], subject="一", link="/points/")
    [external] = notify(users=[resident], subject="二", link="https://evil.example/")
    api.force_authenticate(resident)
    response = api.post(reverse("inbox-api:read", args=[local.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["read_at"] is not None
    assert body["link"] == "/points/"
    again = api.post(reverse("inbox-api:read", args=[local.pk])).json()
    assert again["read_at"] == body["read_at"]
    rows = {row["id"]: row for row in api.get(reverse("inbox-api:list")).json()["results"]}
    assert rows[external.pk]["link"] == ""
    assert rows[external.pk]["read_at"] is None
    assert Notification.objects.get(pk=external.pk).read_at is None


def test_the_list_query_count_is_pinned(
    api: APIClient, resident: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        notify(users=[resident], subject=f"消息{i}")
    api.force_authenticate(resident)
    with django_assert_max_num_queries(1):  # the page; forced authentication needs none
        response = api.get(reverse("inbox-api:list"))
    assert len(response.json()["results"]) == 20


def test_schema_documents_the_inbox_endpoints(api: APIClient, resident: Any) -> None:
    api.force_authenticate(resident)
    response = api.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/inbox/" in text
    assert "/api/v1/inbox/{id}/read/" in text
