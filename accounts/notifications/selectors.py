"""Reads of the inbox. A user reads only their own notifications, whatever their roles."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Notification


def inbox_notifications(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first (none for an anonymous user)."""
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    notifications = Notification.objects.filter(user=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-id")


def inbox_unread_count(*, user: Any) -> int:
    """How many of the user's notifications are unread (one indexed COUNT)."""
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def inbox_notification_get(*, user: Any, pk: int) -> Notification:
    """One of the user's own notifications; another's raises DoesNotExist (a 404)."""
    return inbox_notifications(user=user).get(pk=pk)
