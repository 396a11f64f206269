"""Photos: judged by content, limited, EXIF stripped, upright, private, cleaned up on rollback."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from community.tests.factories import UserFactory
from grievances import selectors, services
from grievances.attachments import attachment_open, photo_check, photos_check, photos_stored
from grievances.models import Attachment
from grievances.tests.factories import photo_bytes, photo_upload

GPS_INFO = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def _files(root: Path) -> list[Path]:
    folder = root / "grievances"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_jpeg_png_and_webp_are_accepted_whatever_their_name(fmt: str, content_type: str) -> None:
    upload = SimpleUploadedFile("photo.gif", photo_bytes(fmt), content_type="text/plain")
    checked = photo_check(upload)
    assert checked.content_type == content_type
    assert (checked.width, checked.height) == (40, 30)


def test_a_script_named_like_a_photo_is_refused() -> None:
    upload = SimpleUploadedFile("photo.jpg", b"#!/bin/sh\nrm -rf /\n", content_type="image/jpeg")
    with pytest.raises(ValidationError) as caught:
        photo_check(upload)
    assert caught.value.code == "photo_type"


def test_other_image_formats_are_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    with pytest.raises(ValidationError) as caught:
        photo_check(SimpleUploadedFile("a.jpg", out.getvalue()))
    assert caught.value.code == "photo_type"


def test_a_truncated_photo_is_refused() -> None:
    data = photo_bytes("JPEG", (400, 300))
    with pytest.raises(ValidationError):
        photo_check(SimpleUploadedFile("a.jpg", data[: len(data) // 2]))


def test_a_photo_over_the_size_limit_is_refused(settings: Any) -> None:
    settings.LINLI_PHOTO_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as caught:
        photo_check(
            SimpleUploadedFile(
                "a.png", photo_bytes("PNG", (300, 300), color=(1, 2, 3)) + b"\0" * 2000
            )
        )
    assert caught.value.code == "photo_too_big"


def test_a_decompression_bomb_is_refused_before_decoding(settings: Any) -> None:
    # A small file that claims a huge canvas: judged by its header, never decoded.
    settings.LINLI_PHOTO_MAX_PIXELS = 100 * 100
    out = io.BytesIO()
    Image.new("L", (2000, 2000)).save(out, format="PNG", optimize=True)
    assert len(out.getvalue()) < 20_000
    with pytest.raises(ValidationError) as caught:
        photo_check(SimpleUploadedFile("bomb.png", out.getvalue()))
    assert caught.value.code == "photo_pixels"


def test_exif_is_stripped_gps_and_camera_included() -> None:
    data = photo_bytes("JPEG", exif={MAKE: "TestPhone", GPS_INFO: {1: "N", 2: (31.0, 13.0, 49.0)}})
    assert Image.open(io.BytesIO(data)).getexif().get(MAKE) == "TestPhone"
    checked = photo_check(SimpleUploadedFile("a.jpg", data))
    stored = Image.open(io.BytesIO(checked.data))
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info and b"TestPhone" not in checked.data


def test_webp_and_png_metadata_is_stripped_too() -> None:
    for fmt in ("WEBP", "PNG"):
        data = photo_bytes(fmt, exif={MAKE: "TestPhone"})
        checked = photo_check(SimpleUploadedFile("a", data))
        assert b"TestPhone" not in checked.data, fmt


def test_a_sideways_phone_photo_is_stored_upright() -> None:
    # Orientation 6: the camera stored it rotated; viewers turn it 90° clockwise.
    data = photo_bytes("JPEG", (40, 30), exif={ORIENTATION: 6})
    checked = photo_check(SimpleUploadedFile("a.jpg", data))
    assert (checked.width, checked.height) == (30, 40)
    stored = Image.open(io.BytesIO(checked.data))
    assert stored.size == (30, 40)
    assert stored.getexif().get(ORIENTATION) is None


def test_too_many_photos_at_once_are_refused() -> None:
    with pytest.raises(ValidationError):
        photos_check([photo_bytes()] * 10)


@pytest.mark.django_db
def test_photos_are_stored_privately_with_random_names(flow: Any, _private_storage: Path) -> None:
    grievance = flow.file(photos=[photo_upload("我家天花板.jpg")])
    photo = Attachment.objects.get(grievance=grievance)
    assert photo.file_path.startswith("grievances/") and photo.file_path.endswith(".jpg")
    assert "天花板" not in photo.file_path
    path = _private_storage / photo.file_path
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    with attachment_open(photo) as handle:
        assert Image.open(handle).format == "JPEG"


def test_files_written_for_a_failing_transaction_are_removed(_private_storage: Path) -> None:
    checked = photos_check([photo_bytes(), photo_bytes("PNG")])
    with pytest.raises(RuntimeError), photos_stored(checked) as stored:
        assert len(_files(_private_storage)) == 2
        assert {s.name.rsplit(".", 1)[1] for s in stored} == {"jpg", "png"}
        raise RuntimeError("the transaction rolled back")
    assert _files(_private_storage) == []


@pytest.mark.django_db
def test_a_refused_resolution_leaves_no_photo_behind(flow: Any, _private_storage: Path) -> None:
    grievance = flow.on_site()
    before = _files(_private_storage)
    # Refused inside the transaction, after the photo was checked and written.
    with pytest.raises(PermissionDenied):
        services.grievance_resolve(
            grievance=grievance,
            actor=flow.resident,
            note="自己修好了",
            now=flow.tick(),
            photos=[photo_upload()],
        )
    assert _files(_private_storage) == before
    assert not Attachment.objects.filter(kind="after").exists()


# --- who sees a photo ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_photo_is_for_those_who_see_its_grievance(
    flow: Any, outsider: Any, grid_worker: Any
) -> None:
    grievance = flow.file(photos=[photo_upload()])
    photo = Attachment.objects.get(grievance=grievance)
    for user in (flow.resident, flow.staff, grid_worker):
        assert selectors.attachment_for(user=user, pk=photo.pk) == photo
    neighbour = UserFactory()
    flow.world.resident_b.user = neighbour
    flow.world.resident_b.save(update_fields=["user"])
    for user in (outsider, neighbour, flow.property_staff):
        with pytest.raises(Attachment.DoesNotExist):
            selectors.attachment_for(user=user, pk=photo.pk)


@pytest.mark.django_db
def test_a_photo_of_an_internal_note_is_not_for_the_resident(flow: Any) -> None:
    grievance = flow.on_site()
    services.grievance_progress_add(
        grievance=grievance,
        actor=flow.staff,
        note="现场情况",
        now=flow.tick(),
        is_public=False,
        photos=[photo_upload()],
    )
    photo = Attachment.objects.get(grievance=grievance, kind="progress")
    assert selectors.attachment_for(user=flow.property_staff, pk=photo.pk) == photo
    with pytest.raises(Attachment.DoesNotExist):
        selectors.attachment_for(user=flow.resident, pk=photo.pk)
    visible = selectors.grievance_photos(user=flow.resident, grievance=grievance)
    assert photo not in list(visible)


@pytest.mark.django_db
@pytest.mark.parametrize("pk", [0, -1, 2**63, 2**70])
def test_nonsense_ids_are_simply_not_found(flow: Any, pk: int) -> None:
    with pytest.raises(Attachment.DoesNotExist):
        selectors.attachment_for(user=flow.staff, pk=pk)
