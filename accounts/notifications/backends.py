"""External notification backends: where a notification goes besides the inbox.

settings.LINLI_NOTIFICATION_BACKENDS lists them by dotted path. A backend's `send`
returns True when it sent the notification, False when the user has no address for it
(no e-mail, say), and raises when sending failed; the caller records which (a
NotificationDelivery row) and never lets the error reach the code that notified.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail

from accounts.models import Notification

logger = logging.getLogger(__name__)

SMS_MAX_CHARS = 300


def absolute_link(notification: Notification) -> str:
    """The notification's local link as a full address (needs settings.LINLI_SITE_URL)."""
    site = (getattr(settings, "LINLI_SITE_URL", "") or "").rstrip("/")
    link = notification.local_link
    return f"{site}{link}" if site and link else ""


class NotificationBackend:
    """Base class: send one notification, True if sent, False if there is no address."""

    def send(self, notification: Notification) -> bool:
        raise NotImplementedError


class ConsoleBackend(NotificationBackend):
    """Development: one log line per notification (no phone number or address in it)."""

    def send(self, notification: Notification) -> bool:
        logger.info(
            "notification %s to user %s [%s]: %s %s",
            notification.pk,
            notification.user_id,
            notification.kind or "-",
            notification.subject,
            notification.link,
        )
        return True


class EmailBackend(NotificationBackend):
    """E-mail through Django's mail settings, to users who gave an e-mail address."""

    def send(self, notification: Notification) -> bool:
        user = notification.user
        address = getattr(user, user.get_email_field_name(), "") or ""
        if not address:
            return False
        parts = [notification.body, absolute_link(notification)]
        text = "\n\n".join(part for part in parts if part) or notification.subject
        send_mail(notification.subject, text, None, [address], fail_silently=False)
        return True


class SmsBackend(NotificationBackend):
    """SMS through an HTTP gateway: POST {"phone", "text"} as JSON to LINLI_SMS_GATEWAY_URL.

    Most Chinese SMS providers need a signed template call; a small gateway in front of
    the provider (or the provider's own HTTP endpoint) takes this one simple request.
    """

    def send(self, notification: Notification) -> bool:
        url = getattr(settings, "LINLI_SMS_GATEWAY_URL", "") or ""
        if not url:
            raise ImproperlyConfigured("LINLI_SMS_GATEWAY_URL is not set")
        if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
            raise ImproperlyConfigured("LINLI_SMS_GATEWAY_URL must be an http(s) address")
        phone = notification.user.phone
        if not phone:
            return False
        payload = json.dumps({"phone": phone, "text": self.text(notification)}).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        token = getattr(settings, "LINLI_SMS_GATEWAY_TOKEN", "") or ""
        if token:
            headers["Authorization"] = f"Bearer {token}"
        timeout = float(getattr(settings, "LINLI_SMS_GATEWAY_TIMEOUT", 10))
        # The scheme is checked above (no file:// or custom openers); a 4xx/5xx raises
        # HTTPError, whose message holds the status, not the phone number.
        request = urllib.request.Request(url, data=payload, headers=headers, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
        return True

    @staticmethod
    def text(notification: Notification) -> str:
        """The message: subject, text and full link, cut to a few SMS segments."""
        words = " ".join(f"{notification.subject} {notification.body}".split())
        link = absolute_link(notification)
        if not link:
            return words[:SMS_MAX_CHARS]
        # The link is cut last: a cut link leads nowhere.
        return f"{words[: max(SMS_MAX_CHARS - len(link) - 1, 0)]} {link}".strip()
