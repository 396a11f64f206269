"""API keys of Open311 client applications (接入密钥): only their SHA-256 is stored.

The lookup (and the hashing) is the grievances selectors' (selectors/open311.py), shared
with the admin that issues keys; this adds what a request needs on top: a bound on what
is worth hashing, and a note of when the key was last used.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from grievances.models import Open311Client
from grievances.selectors.open311 import open311_client_for_key as client_lookup

# last_used_at says whether a key is still in use, not how often: writing it on every
# request would turn each POST of a busy client into one more row update.
_TOUCH_EVERY = dt.timedelta(minutes=5)
# A key is a token of a few dozen characters; anything far longer is not one of ours.
_MAX_KEY_LENGTH = 256


def open311_client_for_key(
    key: str | None, *, now: dt.datetime | None = None
) -> Open311Client | None:
    """The active client holding `key` (with its community), or None; notes when it was used."""
    key = (key or "").strip()
    if not key or len(key) > _MAX_KEY_LENGTH:
        return None
    client = client_lookup(key=key)
    if client is None:
        return None
    now = now or timezone.now()
    if client.last_used_at is None or now - client.last_used_at >= _TOUCH_EVERY:
        # update(): no history row for a mere use of the key.
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client
