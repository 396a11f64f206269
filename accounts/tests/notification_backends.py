"""Backends for the tests: one that records what it was given, one that always fails."""

from __future__ import annotations

from accounts.models import Notification
from accounts.notifications.backends import NotificationBackend

RECORDING = "accounts.tests.notification_backends.RecordingBackend"
FAILING = "accounts.tests.notification_backends.FailingBackend"


class RecordingBackend(NotificationBackend):
    sent: list[tuple[int, str]] = []  # (user id, subject), cleared by the tests

    def send(self, notification: Notification) -> bool:
        RecordingBackend.sent.append((notification.user_id, notification.subject))
        return True


class FailingBackend(NotificationBackend):
    def send(self, notification: Notification) -> bool:
        raise ConnectionError("gateway down")
