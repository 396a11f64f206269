"""Photos of grievances: checked by content, EXIF stripped, kept outside the web root.

A photo is judged by what its bytes are (Pillow decodes them), never by its name or the
browser's content type: a renamed script or HTML file is refused. Within the size and
pixel limits, it is decoded, turned upright by its EXIF orientation (phones store
photos sideways and say so in EXIF), and encoded again without any metadata: no GPS
position, camera serial or capture time leaves the phone into our storage (PIPL;
DESIGN §3).

Files go to settings.PRIVATE_STORAGE_ROOT/grievances/<uuid>.<ext>, never under MEDIA or
static, and are served only by a view that asks `attachment_for` first.

Storing and the database row must agree. The files are written before the transaction
(`photos_stored`) and deleted again if the block that records them raises, i.e. if the
transaction rolls back; a process killed between the write and the commit can leave an
unreferenced file behind, never a row without its file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import uuid
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext as _

from grievances.models import Attachment, Grievance, TimelineEvent

#: Defaults; settings LINLI_PHOTO_MAX_BYTES / LINLI_PHOTO_MAX_PIXELS override them.
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 48 MP phone photo is refused; 12 MP is typical
MAX_PHOTOS = 9  # per upload, as phone pickers offer
#: Pillow format → (content type, extension). Nothing else is accepted.
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
_FOLDER = "grievances"


def max_bytes() -> int:
    return int(getattr(settings, "LINLI_PHOTO_MAX_BYTES", MAX_BYTES))


def max_pixels() -> int:
    return int(getattr(settings, "LINLI_PHOTO_MAX_PIXELS", MAX_PIXELS))


@dataclass(frozen=True)
class CheckedPhoto:
    """A photo that passed the checks, re-encoded without metadata, not yet stored."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class StoredPhoto:
    """A checked photo written to private storage (`name` relative to its root)."""

    photo: CheckedPhoto
    name: str


def private_storage() -> FileSystemStorage:
    """The storage outside the web root; files and folders readable by the owner only."""
    return FileSystemStorage(
        location=settings.PRIVATE_STORAGE_ROOT,
        file_permissions_mode=0o600,
        directory_permissions_mode=0o700,
    )


def _read_limited(upload: Any, limit: int) -> bytes:
    """At most limit + 1 bytes of an uploaded file (or bytes): enough to know it is too big."""
    if isinstance(upload, bytes | bytearray):
        return bytes(upload[: limit + 1])
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        return b"\0" * (limit + 1)
    if hasattr(upload, "seek"):
        upload.seek(0)
    if hasattr(upload, "chunks"):
        data = bytearray()
        for chunk in upload.chunks():
            data.extend(chunk)
            if len(data) > limit:
                break
        return bytes(data)
    return bytes(upload.read(limit + 1))


def photo_check(upload: Any) -> CheckedPhoto:
    """Decode an upload as a JPEG, PNG or WebP photo and re-encode it without metadata."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    limit = max_bytes()
    data = _read_limited(upload, limit)
    if len(data) > limit:
        raise ValidationError(
            _("A photo may be at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)},
            code="photo_too_big",
        )
    if not data:
        raise ValidationError(_("The photo is empty."), code="photo_empty")
    not_photo = ValidationError(_("This file is not a JPEG, PNG or WebP photo."), code="photo_type")
    pixels = max_pixels()
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it: make that an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in FORMATS:
                    raise not_photo
                width, height = probe.size
                if width * height > pixels:
                    raise ValidationError(
                        _("The photo is too large (%(w)s × %(h)s pixels).")
                        % {"w": width, "h": height},
                        code="photo_pixels",
                    )
                probe.verify()  # structure and checksums, without decoding the pixels
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format or ""
                image.load()
                upright = ImageOps.exif_transpose(image)
                encoded = _encode(upright, fmt)
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ) as exc:
        # Truncated, corrupt, or a "photo" that is something else inside: all refused.
        raise not_photo from exc
    content_type, extension = FORMATS[fmt]
    return CheckedPhoto(
        data=encoded,
        content_type=content_type,
        extension=extension,
        width=upright.width,
        height=upright.height,
    )


def _encode(image: Any, fmt: str) -> bytes:
    """Encode again in the same format, with no EXIF, XMP, ICC profile or comments."""
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options: dict[str, Any] = {"quality": 85, "optimize": True}
    elif fmt == "WEBP":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        options = {"quality": 85}
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA")
        options = {"optimize": True}
    # A fresh copy whose info is empty: Pillow copies some metadata (comments, ICC) from
    # `info` when it saves; the pixels are all we keep.
    clean = image.copy()
    clean.info = {}
    out = io.BytesIO()
    clean.save(out, format=fmt, **options)
    return out.getvalue()


def photos_check(uploads: Iterable[Any] | None) -> list[CheckedPhoto]:
    """Check every upload; the first bad one refuses the lot (nothing is stored)."""
    items = list(uploads or [])
    if len(items) > MAX_PHOTOS:
        raise ValidationError(
            _("At most %(n)s photos at a time.") % {"n": MAX_PHOTOS}, code="photo_count"
        )
    return [item if isinstance(item, CheckedPhoto) else photo_check(item) for item in items]


@contextlib.contextmanager
def photos_stored(photos: Sequence[CheckedPhoto]) -> Iterator[list[StoredPhoto]]:
    """Write checked photos to private storage; delete them again if the block raises.

    Wrap the durable transaction that records them in this block: a rollback (any
    exception out of it) leaves no file behind.
    """
    storage = private_storage()
    stored: list[StoredPhoto] = []
    try:
        for photo in photos:
            name = storage.save(
                f"{_FOLDER}/{uuid.uuid4().hex}.{photo.extension}", ContentFile(photo.data)
            )
            stored.append(StoredPhoto(photo=photo, name=name))
        yield stored
    except BaseException:
        for item in stored:
            storage.delete(item.name)
        raise


def attachments_record(
    *,
    grievance: Grievance,
    stored: Iterable[StoredPhoto],
    kind: str,
    event: TimelineEvent | None,
    actor: Any,
    now: dt.datetime,
) -> list[Attachment]:
    """The rows of photos already written by `photos_stored` (inside its transaction)."""
    rows = [
        Attachment(
            grievance=grievance,
            event=event,
            kind=kind,
            file_path=item.name,
            content_type=item.photo.content_type,
            size=len(item.photo.data),
            width=item.photo.width,
            height=item.photo.height,
            uploaded_by=actor,
            created_at=now,
        )
        for item in stored
    ]
    return Attachment.objects.bulk_create(rows)


def attachment_open(attachment: Attachment) -> Any:
    """The stored file of an attachment, opened for reading (for the serving view)."""
    return private_storage().open(attachment.file_path, "rb")
