"""notify(): the inbox row in the caller's transaction, the deliveries after commit."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import tasks
from accounts.models import Notification, NotificationDelivery, User
from accounts.notifications import (
    notification_deliveries_send,
    notification_deliveries_send_pending,
    notify,
)
from accounts.notifications.backends import SmsBackend
from accounts.tests.notification_backends import FAILING, RECORDING, RecordingBackend

pytestmark = pytest.mark.django_db

Status = NotificationDelivery.Status
CONSOLE = "accounts.notifications.backends.ConsoleBackend"
EMAIL = "accounts.notifications.backends.EmailBackend"
SMS = "accounts.notifications.backends.SmsBackend"


def _user(n: int, **extra: Any) -> User:
    return User.objects.create_user(f"1390000{n:04d}", "a-Strong-pass-1", name=f"用户{n}", **extra)


@pytest.fixture
def recorded() -> Iterator[list[tuple[int, str]]]:
    RecordingBackend.sent = []
    yield RecordingBackend.sent
    RecordingBackend.sent = []


@pytest.fixture
def backends(settings: Any) -> Any:
    """Set the external backends for one test: backends(RECORDING, FAILING)."""

    def use(*paths: str) -> None:
        settings.LINLI_NOTIFICATION_BACKENDS = list(paths)

    use()
    return use


def test_the_inbox_row_is_written_in_the_callers_transaction_and_rolled_back_with_it(
    backends: Any, recorded: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    backends(RECORDING)
    user = _user(1)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(users=[user], subject="工单已升级", kind="grievance.escalated")
        # Visible inside the transaction: the caller's own work and the message go together.
        assert Notification.objects.filter(user=user).count() == 1
        raise RuntimeError("the escalation failed")
    assert not Notification.objects.exists()
    assert not NotificationDelivery.objects.exists()
    assert callbacks == []
    assert recorded == []


def test_external_backends_run_only_after_commit(
    backends: Any, recorded: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    backends(RECORDING)
    user = _user(1)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            created = notify(users=[user], subject="工单已升级", link="/grievances/1/")
            assert recorded == []  # nothing leaves the process inside the transaction
        assert recorded == []  # the test's own transaction has not committed yet
    assert recorded == [(user.pk, "工单已升级")]
    delivery = NotificationDelivery.objects.get(notification=created[0])
    assert delivery.backend == RECORDING
    assert delivery.status == Status.SENT
    assert delivery.finished_at is not None


def test_a_failing_backend_is_recorded_and_logged_and_the_others_still_send(
    backends: Any,
    recorded: list[Any],
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    backends(FAILING, RECORDING)
    user = _user(1)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        created = notify(users=[user], subject="工单已升级")
    assert Notification.objects.filter(pk=created[0].pk).exists()
    assert recorded == [(user.pk, "工单已升级")]
    failed = NotificationDelivery.objects.get(backend=FAILING)
    assert failed.status == Status.FAILED
    assert "gateway down" in failed.error
    assert NotificationDelivery.objects.get(backend=RECORDING).status == Status.SENT
    assert "delivery" in caplog.text and "FailingBackend" in caplog.text


def test_without_backends_only_the_inbox_is_written(
    backends: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = _user(1)
    with django_capture_on_commit_callbacks() as callbacks:
        notify(users=[user], subject="通知")
    assert Notification.objects.filter(user=user).count() == 1
    assert not NotificationDelivery.objects.exists()
    assert callbacks == []


def test_the_backend_list_is_read_at_call_time(
    backends: Any, recorded: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    user = _user(1)
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[user], subject="一")
    backends(RECORDING)
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[user], subject="二")
    assert recorded == [(user.pk, "二")]


# A real commit (transaction=True): the after-commit hook runs as in production, where
# enqueueing happens outside any transaction.
@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_leaves_deliveries_pending_for_the_sweep(
    backends: Any,
    recorded: list[Any],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    backends(RECORDING)
    settings.LINLI_TASK_MODE = "celery"

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.notifications_deliver_task, "apply_async", broker_down)
    user = _user(1)
    with caplog.at_level(logging.ERROR), transaction.atomic(durable=True):
        created = notify(users=[user], subject="工单已升级")
    # No error reached the caller; the failure is logged and the delivery waits.
    assert "redis is down" in caplog.text
    assert NotificationDelivery.objects.get().status == Status.PENDING
    assert recorded == []

    # Within the grace time the sweep leaves it to the after-commit task...
    now = created[0].created_at
    assert notification_deliveries_send_pending(now=now + dt.timedelta(minutes=1)) == {}
    assert recorded == []
    # ...after it, the sweep sends it.
    assert notification_deliveries_send_pending(now=now + dt.timedelta(minutes=6)) == {"sent": 1}
    assert recorded == [(user.pk, "工单已升级")]


def test_a_delivery_is_sent_once_even_when_its_task_runs_twice(
    backends: Any, recorded: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    backends(RECORDING)
    user = _user(1)
    with django_capture_on_commit_callbacks(execute=False):  # the task is "lost"
        notify(users=[user], subject="工单已升级")
    ids = list(NotificationDelivery.objects.values_list("pk", flat=True))
    assert notification_deliveries_send(delivery_ids=ids) == {"sent": 1}
    assert notification_deliveries_send(delivery_ids=ids) == {}
    assert recorded == [(user.pk, "工单已升级")]


def test_the_same_ref_twice_makes_one_notification(
    backends: Any, recorded: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    backends(RECORDING)
    user = _user(1)
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(users=[user], subject="超时预警", ref="sla-event:123")
    with django_capture_on_commit_callbacks(execute=True):
        second = notify(users=[user], subject="超时预警", ref="sla-event:123")
    assert len(first) == 1
    assert second == []
    assert Notification.objects.filter(user=user).count() == 1
    assert recorded == [(user.pk, "超时预警")]  # and sent once


def test_a_ref_is_once_per_user_not_once_overall() -> None:
    a, b = _user(1), _user(2)
    notify(users=[a], subject="超时预警", ref="sla-event:1")
    created = notify(users=[a, b], subject="超时预警", ref="sla-event:1")
    assert [n.user_id for n in created] == [b.pk]
    assert Notification.objects.filter(ref="sla-event:1").count() == 2


def test_without_a_ref_every_call_notifies() -> None:
    user = _user(1)
    notify(users=[user], subject="公告")
    notify(users=[user], subject="公告")
    assert Notification.objects.filter(user=user).count() == 2


def test_the_database_refuses_a_second_notification_for_the_same_user_and_ref() -> None:
    user = _user(1)
    Notification.objects.create(user=user, subject="一", ref="sla-event:9")
    Notification.objects.create(user=user, subject="无引用")
    Notification.objects.create(user=user, subject="无引用")  # an empty ref is no reference
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(user=user, subject="二", ref="sla-event:9")


def test_a_user_listed_twice_is_notified_once_and_inactive_users_not_at_all() -> None:
    a, b = _user(1), _user(2)
    gone = _user(3, is_active=False)
    created = notify(users=[a, b, a, gone, b], subject="会议通知")
    assert sorted(n.user_id for n in created) == sorted([a.pk, b.pk])
    assert Notification.objects.count() == 2


def test_notify_keeps_the_subject_on_one_line_and_refuses_a_ref_it_cannot_store() -> None:
    user = _user(1)
    [notification] = notify(users=[user], subject="第一行\n第二行", body="正文\n第二段")
    assert notification.subject == "第一行 第二行"
    assert notification.body == "正文\n第二段"
    with pytest.raises(ValueError, match="ref"):
        notify(users=[user], subject="x", ref="r" * 201)
    with pytest.raises(ValueError, match="subject"):
        notify(users=[user], subject="  ")


def test_the_console_backend_logs_a_line_without_the_phone_number(
    backends: Any, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    backends(CONSOLE)
    user = _user(1)
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        [notification] = notify(users=[user], subject="工单已升级", kind="grievance.escalated")
    line = next(r.getMessage() for r in caplog.records if "工单已升级" in r.getMessage())
    assert f"notification {notification.pk}" in line
    assert "grievance.escalated" in line
    assert user.phone not in line
    assert NotificationDelivery.objects.get().status == Status.SENT


def test_the_email_backend_mails_users_with_an_address_and_skips_the_others(
    backends: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    backends(EMAIL)
    settings.LINLI_SITE_URL = "https://linli.example.org/"
    with_mail = _user(1, email="zhang@example.org")
    without = _user(2)
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            users=[with_mail, without],
            subject="工单已升级",
            body="3号楼漏水已超时",
            link="/grievances/7/",
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["zhang@example.org"]
    assert message.subject == "工单已升级"
    assert "3号楼漏水已超时" in message.body
    assert "https://linli.example.org/grievances/7/" in message.body
    statuses = dict(NotificationDelivery.objects.values_list("notification__user", "status"))
    assert statuses == {with_mail.pk: Status.SENT, without.pk: Status.SKIPPED}


def test_the_sms_backend_without_a_gateway_fails_the_delivery_not_the_caller(
    backends: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    backends(SMS)
    settings.LINLI_SMS_GATEWAY_URL = ""
    user = _user(1)
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[user], subject="工单已升级")
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == Status.FAILED
    assert "ImproperlyConfigured" in delivery.error
    assert "LINLI_SMS_GATEWAY_URL" in delivery.error


class _Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    answer = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Gateway.received.append(
            {
                "authorization": self.headers.get("Authorization"),
                "json": json.loads(self.rfile.read(length)),
            }
        )
        self.send_response(_Gateway.answer)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    """A local HTTP server standing in for the SMS gateway."""
    _Gateway.received, _Gateway.answer = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/send"
    server.shutdown()
    server.server_close()


def test_the_sms_backend_posts_phone_and_text_to_the_gateway(
    backends: Any, settings: Any, gateway: str, django_capture_on_commit_callbacks: Any
) -> None:
    backends(SMS)
    settings.LINLI_SMS_GATEWAY_URL = gateway
    settings.LINLI_SMS_GATEWAY_TOKEN = "gateway-token"
    settings.LINLI_SITE_URL = "https://linli.example.org"
    user = _user(1)
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[user], subject="工单已升级", body="3号楼漏水", link="/grievances/7/")
    assert _Gateway.received == [
        {
            "authorization": "Bearer gateway-token",
            "json": {
                "phone": user.phone,
                "text": "工单已升级 3号楼漏水 https://linli.example.org/grievances/7/",
            },
        }
    ]
    assert NotificationDelivery.objects.get().status == Status.SENT


def test_a_gateway_error_fails_the_delivery_without_the_phone_in_the_error(
    backends: Any, settings: Any, gateway: str, django_capture_on_commit_callbacks: Any
) -> None:
    backends(SMS)
    settings.LINLI_SMS_GATEWAY_URL = gateway
    _Gateway.answer = 503
    user = _user(1)
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[user], subject="工单已升级")
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == Status.FAILED
    assert "503" in delivery.error
    assert user.phone not in delivery.error


def test_a_long_sms_is_cut_but_its_link_is_kept_whole(settings: Any) -> None:
    settings.LINLI_SITE_URL = "https://linli.example.org"
    user = _user(1)
    notification = Notification(
        user=user, subject="工单", body="很长的说明" * 100, link="/grievances/7/"
    )
    text = SmsBackend.text(notification)
    assert len(text) <= 300
    assert text.endswith(" https://linli.example.org/grievances/7/")


@pytest.mark.parametrize(
    ("link", "local"),
    [
        ("/grievances/7/", "/grievances/7/"),
        ("/points/?page=2#top", "/points/?page=2#top"),
        ("", ""),
        ("https://evil.example/", ""),
        ("//evil.example/", ""),
        ("/\\evil.example/", ""),
        ("javascript:alert(1)", ""),
        ("grievances/7/", ""),
    ],
)
def test_only_a_path_on_this_site_counts_as_the_link(link: str, local: str) -> None:
    assert Notification(link=link).local_link == local


def test_notify_outside_a_transaction_commits_at_once(
    backends: Any, recorded: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    backends(RECORDING)
    user = _user(1)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notify(users=[user], subject="通知")
    assert notification.pk is not None
    assert notification.created_at >= now
    assert notification.read_at is None
    assert recorded == [(user.pk, "通知")]
