"""The activity's check-in link: the activity id signed with the site's key, so a link
cannot be made up for another activity (no token is stored on the activity)."""

from __future__ import annotations

import segno
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.safestring import SafeString, mark_safe

SALT = "volunteers.activity-checkin"


def checkin_token(activity_id: int) -> str:
    """The signature of the activity id: the last part of its check-in link."""
    return signing.Signer(salt=SALT).signature(str(activity_id))


def checkin_token_valid(activity_id: int, token: str) -> bool:
    """True when the token is the activity's own signature."""
    return constant_time_compare(token, checkin_token(activity_id))


def checkin_path(activity_id: int) -> str:
    """The check-in page's path for the activity."""
    return reverse("volunteers:check-in", args=[activity_id, checkin_token(activity_id)])


def qr_svg(url: str) -> SafeString:
    """The check-in link as an inline SVG QR code, drawn on the server."""
    svg = segno.make(url, error="m").svg_inline(
        scale=6, border=2, dark="#000", light="#fff", omitsize=True, svgclass="qr"
    )
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S308
