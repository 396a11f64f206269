"""Notifications: a message in each user's inbox, and its SMS / e-mail deliveries.

Every app may notify (accounts is the lowest app): `notify(users=..., subject=...)`.
The inbox row is written in the caller's transaction (the database is the record);
the external backends of settings.LINLI_NOTIFICATION_BACKENDS send it after commit.
"""

from __future__ import annotations

from accounts.notifications.services import (
    notification_deliveries_send,
    notification_deliveries_send_pending,
    notification_mark_read,
    notifications_mark_all_read,
    notify,
)

__all__ = [
    "notification_deliveries_send",
    "notification_deliveries_send_pending",
    "notification_mark_read",
    "notifications_mark_all_read",
    "notify",
]
