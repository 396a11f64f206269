"""The inbox pages and the unread badge of the top bar."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import Notification
from accounts.notifications import notify

pytestmark = pytest.mark.django_db


def _english(client: Any) -> None:
    client.cookies["django_language"] = "en"


def _badge(html: str) -> str | None:
    match = re.search(r'data-testid="inbox-unread">([^<]*)<', html)
    return match.group(1).strip() if match else None


def test_anonymous_visitors_are_sent_to_the_login_page(client: Any, resident: Any) -> None:
    [notification] = notify(users=[resident], subject="工单已升级")
    login = reverse("accounts:login")
    for method, url in (
        ("get", reverse("accounts:inbox")),
        ("get", reverse("accounts:inbox-open", args=[notification.pk])),
        ("post", reverse("accounts:inbox-read-all")),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(login)
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_inbox_shows_only_my_own_notifications(
    client: Any, resident: Any, outsider: Any
) -> None:
    notify(users=[resident], subject="张建国的工单已升级")
    notify(users=[outsider], subject="路人甲的消息")
    client.force_login(outsider)
    page = client.get(reverse("accounts:inbox")).content.decode()
    assert "路人甲的消息" in page
    assert "张建国的工单已升级" not in page


def test_opening_another_users_notification_is_404_and_leaves_it_unread(
    client: Any, resident: Any, outsider: Any
) -> None:
    [notification] = notify(users=[resident], subject="工单已升级", link="/points/")
    client.force_login(outsider)
    assert client.get(reverse("accounts:inbox-open", args=[notification.pk])).status_code == 404
    assert client.post(reverse("accounts:inbox-open", args=[notification.pk])).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(
    client: Any, resident: Any
) -> None:
    [notification] = notify(users=[resident], subject="工单已升级", link="/points/?tab=1")
    client.force_login(resident)
    response = client.get(reverse("accounts:inbox-open", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/points/?tab=1"
    notification.refresh_from_db()
    first_read = notification.read_at
    assert first_read is not None
    # Opening it again keeps the first reading time.
    client.post(reverse("accounts:inbox-open", args=[notification.pk]))
    notification.refresh_from_db()
    assert notification.read_at == first_read


@pytest.mark.parametrize(
    "link", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:x", ""]
)
def test_a_link_off_this_site_never_becomes_a_redirect(
    client: Any, resident: Any, link: str
) -> None:
    [notification] = notify(users=[resident], subject="工单已升级", link=link)
    client.force_login(resident)
    response = client.get(reverse("accounts:inbox-open", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:inbox')}#n-{notification.pk}"


def test_mark_all_read_reads_only_mine_and_needs_a_post(
    client: Any, resident: Any, outsider: Any
) -> None:
    notify(users=[resident], subject="一")
    notify(users=[resident], subject="二")
    notify(users=[outsider], subject="别人的")
    client.force_login(resident)
    assert client.get(reverse("accounts:inbox-read-all")).status_code == 405
    response = client.post(reverse("accounts:inbox-read-all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(user=resident, read_at__isnull=True).exists()
    assert Notification.objects.get(user=outsider).read_at is None


def test_unread_ones_are_highlighted_and_the_badge_counts_them(client: Any, resident: Any) -> None:
    first, second, _third = (notify(users=[resident], subject=s)[0] for s in ("一", "二", "三"))
    client.force_login(resident)
    _english(client)
    page = client.get(reverse("accounts:inbox")).content.decode()
    assert _badge(page) == "3"
    assert page.count("data-unread") == 3
    client.get(reverse("accounts:inbox-open", args=[second.pk]))
    page = client.get(reverse("accounts:inbox")).content.decode()
    assert _badge(page) == "2"
    assert f'id="n-{second.pk}" href' in page
    assert re.search(rf'id="n-{second.pk}"[^>]*data-unread', page) is None
    assert re.search(rf'id="n-{first.pk}"[^>]*data-unread', page)
    assert "Mark all read" in page
    client.post(reverse("accounts:inbox-read-all"))
    page = client.get(reverse("accounts:inbox")).content.decode()
    assert _badge(page) is None
    assert "Mark all read" not in page


def test_the_badge_is_on_other_pages_and_caps_at_99(client: Any, resident: Any) -> None:
    Notification.objects.bulk_create(
        Notification(user=resident, subject=f"消息{i}") for i in range(120)
    )
    client.force_login(resident)
    page = client.get(reverse("credit:points-home")).content.decode()
    assert _badge(page) == "99+"


def test_anonymous_pages_have_no_badge_and_no_query_for_it(
    client: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        page = client.get(reverse("accounts:login")).content.decode()
    assert 'data-testid="inbox-link"' not in page


def test_the_inbox_is_paged_newest_first(client: Any, resident: Any) -> None:
    for i in range(25):
        notify(users=[resident], subject=f"第{i:02d}条")
    client.force_login(resident)
    first = client.get(reverse("accounts:inbox")).content.decode()
    subjects = re.findall(r"第(\d\d)条", first)
    assert subjects == [f"{i:02d}" for i in range(24, 4, -1)]
    second = client.get(reverse("accounts:inbox"), {"page": 2}).content.decode()
    assert re.findall(r"第(\d\d)条", second) == ["04", "03", "02", "01", "00"]


def test_the_inbox_query_count_is_pinned(
    client: Any, resident: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        notify(users=[resident], subject=f"消息{i}", body="正文", link="/points/")
    client.force_login(resident)
    # Session, user, the role menu's scope, the badge, the page count and the page.
    with django_assert_max_num_queries(6):
        response = client.get(reverse("accounts:inbox"))
    assert response.status_code == 200


def test_the_inbox_fits_a_phone(client: Any, resident: Any) -> None:
    notify(users=[resident], subject="工单已升级", body="很长的说明" * 50)
    client.force_login(resident)
    page = client.get(reverse("accounts:inbox")).content.decode()
    assert 'class="worker"' in page  # thumb-sized rows and buttons (static/css/linli.css)
    assert "text-break" in page  # long text wraps instead of widening the page


def test_the_admin_shows_notifications_read_only_to_superusers_only(
    client: Any, resident: Any, staff: Any
) -> None:
    [notification] = notify(users=[resident], subject="工单已升级")
    changelist = reverse("admin:accounts_notification_changelist")
    change = reverse("admin:accounts_notification_change", args=[notification.pk])
    client.force_login(staff)  # office staff: messages are personal
    assert client.get(changelist).status_code == 403
    superuser = type(resident).objects.create_superuser("13911112222", "a-Strong-pass-1")
    client.force_login(superuser)
    assert "工单已升级" in client.get(changelist).content.decode()
    page = client.get(change)
    assert page.status_code == 200
    assert 'name="subject"' not in page.content.decode()  # no form field: read-only
    assert client.post(change, {"subject": "改过"}).status_code == 403
    notification.refresh_from_db()
    assert notification.subject == "工单已升级"
