"""Quotes and receipts of fund expenses (报价单 / 发票): photos checked like grievance photos.

The checks are the grievances app's (`photo_check`: judged by content, size and pixel
limits, EXIF stripped, turned upright), and so is the storage outside the web root; only
the folder differs: settings.PRIVATE_STORAGE_ROOT/property/funds/<uuid>.<ext>. Files are
written before the transaction and deleted again if it rolls back (`photos_stored`), so
no row ever points at a missing file. They are served only through
`expense_attachment_open`, which asks who is looking first.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from django.core.files.base import ContentFile

from grievances.attachments import (
    MAX_PHOTOS,
    CheckedPhoto,
    StoredPhoto,
    photo_check,
    photos_check,
    private_storage,
)
from property_mgmt.models import ExpenseAttachment, ExpenseRequest
from property_mgmt.selectors.funds import may_see_fund

__all__ = [
    "MAX_PHOTOS",
    "CheckedPhoto",
    "expense_attachment_for",
    "expense_attachment_open",
    "expense_attachments_record",
    "photo_check",
    "photos_check",
    "photos_stored",
]

FOLDER = "property/funds"
_MAX_PK = 2**63 - 1


@contextlib.contextmanager
def photos_stored(photos: Sequence[CheckedPhoto]) -> Iterator[list[StoredPhoto]]:
    """Write checked photos under property/funds; delete them again if the block raises.

    Wrap the durable transaction that records them in this block.
    """
    storage = private_storage()
    stored: list[StoredPhoto] = []
    try:
        for photo in photos:
            name = storage.save(
                f"{FOLDER}/{uuid.uuid4().hex}.{photo.extension}", ContentFile(photo.data)
            )
            stored.append(StoredPhoto(photo=photo, name=name))
        yield stored
    except BaseException:
        for item in stored:
            storage.delete(item.name)
        raise


def expense_attachments_record(
    *, expense: ExpenseRequest, stored: Iterable[StoredPhoto], kind: str, actor: Any
) -> list[ExpenseAttachment]:
    """The rows of photos already written by `photos_stored` (inside its transaction)."""
    rows = [
        ExpenseAttachment(
            expense=expense,
            kind=kind,
            file_path=item.name,
            content_type=item.photo.content_type,
            width=item.photo.width,
            height=item.photo.height,
            uploaded_by=actor,
        )
        for item in stored
    ]
    return ExpenseAttachment.objects.bulk_create(rows)


def expense_attachment_for(*, user: Any, pk: Any) -> ExpenseAttachment:
    """A quote or receipt the user may see (committee of the estate, its community's office,
    its street's supervisor); ExpenseAttachment.DoesNotExist otherwise, so a view answers
    404."""
    if not isinstance(pk, int) or not 0 < pk <= _MAX_PK:
        raise ExpenseAttachment.DoesNotExist
    attachment = ExpenseAttachment.objects.select_related("expense__fund__estate").get(pk=pk)
    if not may_see_fund(user, attachment.expense.fund.estate):
        raise ExpenseAttachment.DoesNotExist
    return attachment


def expense_attachment_open(*, user: Any, pk: Any) -> tuple[ExpenseAttachment, IO[bytes]]:
    """The attachment and its stored file opened for reading, for a user in scope."""
    attachment = expense_attachment_for(user=user, pk=pk)
    return attachment, private_storage().open(attachment.file_path, "rb")
