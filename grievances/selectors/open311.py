"""Reads for the Open311 endpoints: which client a presented API key belongs to."""

from __future__ import annotations

import hashlib

from grievances.models import Open311Client


def open311_key_hash(key: str) -> str:
    """The stored form of a key (SHA-256, hex)."""
    return hashlib.sha256(key.encode()).hexdigest()


def open311_client_for_key(*, key: str) -> Open311Client | None:
    """The active client whose key this is, or None (the Open311 views answer 403)."""
    if not key:
        return None
    return (
        Open311Client.objects.filter(key_hash=open311_key_hash(key), is_active=True)
        .select_related("community")
        .first()
    )
