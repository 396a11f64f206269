"""API keys of Open311 client applications (接入密钥), issued in the admin.

Only a SHA-256 hash of a key and its first characters are stored: the key itself is
shown once, to the person who issued it, and can only be replaced, never read back.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from community.models import Community
from grievances.models import Open311Client
from grievances.selectors.access import is_office
from grievances.selectors.open311 import open311_key_hash

KEY_PREFIX_LENGTH = 8


def _new_key() -> tuple[str, str, str]:
    key = secrets.token_urlsafe(32)
    return key, key[:KEY_PREFIX_LENGTH], open311_key_hash(key)


def open311_client_key_set(*, client: Open311Client) -> str:
    """Give an unsaved or existing client a new key (helper); return the key, once."""
    key, prefix, digest = _new_key()
    client.key_prefix, client.key_hash = prefix, digest
    return key


def open311_client_create(
    *, name: str, community: Community, actor: Any
) -> tuple[Open311Client, str]:
    """Register a client application and issue its key; returns (client, key)."""
    if not is_office(actor, community.pk):
        raise PermissionDenied(_("Only the community office may do this."))
    client = Open311Client(name=name.strip()[:100], community=community)
    key = open311_client_key_set(client=client)
    client._history_user = actor  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        client.save()
    return client, key


def open311_client_key_rotate(*, client: Open311Client, actor: Any) -> str:
    """Replace a client's key (the old one stops working at once); returns the new key."""
    if not is_office(actor, client.community_id):
        raise PermissionDenied(_("Only the community office may do this."))
    key = open311_client_key_set(client=client)
    client._history_user = actor  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        client.save(update_fields=["key_prefix", "key_hash"])
    return key
