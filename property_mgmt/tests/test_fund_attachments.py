"""Quotes and receipts: checked like grievance photos, EXIF stripped, stored outside the web
root under property/funds, removed on rollback, opened only for those who see the fund."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from community.tests.factories import UserFactory
from grievances.tests.factories import photo_bytes, photo_upload
from property_mgmt.attachments import expense_attachment_for, expense_attachment_open
from property_mgmt.models import ExpenseAttachment, ExpenseRequest
from property_mgmt.services import funds as services
from property_mgmt.tests.factories_funds import (
    NOW,
    Committee,
    committee_member,
    committee_with_fund,
)

pytestmark = pytest.mark.django_db
GPS_INFO = 0x8825


@pytest.fixture(autouse=True)
def private_root(tmp_path: Path, settings: Any) -> Any:
    """Photos of each test go to a folder of their own, removed afterwards."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    yield settings.PRIVATE_STORAGE_ROOT
    shutil.rmtree(tmp_path / "private", ignore_errors=True)


@pytest.fixture
def c(world: Any) -> Committee:
    return committee_with_fund(world.estate, balance=1000)


def _files(root: Path) -> list[Path]:
    folder = root / "property" / "funds"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_quotes_are_stored_privately_without_exif(c: Committee, private_root: Path) -> None:
    upload = SimpleUploadedFile(
        "quote.jpg",
        photo_bytes("JPEG", exif={0x010F: "TestPhone", GPS_INFO: {1: "N", 2: (31.0, 13.0, 49.0)}}),
        content_type="image/jpeg",
    )
    expense = services.expense_request(
        fund=c.fund, actor=c.member_a, purpose="换锁", amount=80, photos=[upload], now=NOW
    )
    (attachment,) = expense.attachments.all()
    assert attachment.kind == ExpenseAttachment.Kind.QUOTE
    assert attachment.uploaded_by == c.member_a and attachment.content_type == "image/jpeg"
    (stored,) = _files(private_root)
    assert attachment.file_path == f"property/funds/{stored.name}"
    assert not str(stored).startswith(str(settings.MEDIA_ROOT))
    with Image.open(stored) as image:
        assert not image.getexif()


def test_a_script_named_like_a_photo_refuses_the_request(c: Committee, private_root: Path) -> None:
    bad = SimpleUploadedFile("quote.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
    with pytest.raises(ValidationError):
        services.expense_request(
            fund=c.fund,
            actor=c.member_a,
            purpose="换锁",
            amount=80,
            photos=[photo_upload(), bad],
            now=NOW,
        )
    assert not ExpenseRequest.objects.exists() and _files(private_root) == []


def test_receipts_come_with_the_payment(c: Committee) -> None:
    expense = c.approved(100)
    services.expense_pay(
        expense=expense, actor=c.keeper, receipts=[photo_upload("receipt.png", "PNG")], now=NOW
    )
    (receipt,) = expense.attachments.all()
    assert receipt.kind == ExpenseAttachment.Kind.RECEIPT and receipt.uploaded_by == c.keeper


def test_a_refused_payment_leaves_no_receipt_behind(c: Committee, private_root: Path) -> None:
    expense = c.approved(2000)
    with pytest.raises(ValidationError):
        services.expense_pay(expense=expense, actor=c.keeper, receipts=[photo_upload()], now=NOW)
    with pytest.raises(PermissionDenied):
        services.expense_pay(
            expense=expense, actor=c.bookkeeper, receipts=[photo_upload()], now=NOW
        )
    assert _files(private_root) == [] and not ExpenseAttachment.objects.exists()


def test_committee_and_office_open_a_receipt_others_are_denied(
    world: Any, c: Committee, staff: Any, outsider: Any, resident: Any, property_staff: Any
) -> None:
    expense = services.expense_request(
        fund=c.fund, actor=c.member_a, purpose="换锁", amount=80, photos=[photo_upload()], now=NOW
    )
    pk = expense.attachments.get().pk
    for user in (c.member_b, c.keeper, staff):
        attachment, handle = expense_attachment_open(user=user, pk=pk)
        with handle:
            assert handle.read(2) == b"\xff\xd8"  # a JPEG
        assert attachment.pk == pk
    stranger = committee_member(world.other_estate, "周委员")
    for user in (stranger, outsider, resident, property_staff, UserFactory()):
        with pytest.raises(ExpenseAttachment.DoesNotExist):
            expense_attachment_for(user=user, pk=pk)
    for bad in ("1", 0, -1, 2**70):
        with pytest.raises(ExpenseAttachment.DoesNotExist):
            expense_attachment_for(user=c.keeper, pk=bad)
