"""Factories of the grievances app (the SLA engine's own are in factories_sla.py).

Rows made here skip the services: use them for data a test only reads. A test of a
workflow step files and moves its grievance through the services instead, so the
timeline and the clocks are real.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from factory.django import DjangoModelFactory

from community.tests.factories import CommunityFactory, UserFactory
from grievances.models import (
    Attachment,
    Category,
    Dispatch,
    Grievance,
    Open311Client,
    Rating,
    SlaClockSpec,
    SlaPolicy,
    Tier,
    TimelineEvent,
    Trigger,
)

NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Shanghai


class SlaPolicyFactory(DjangoModelFactory):
    class Meta:
        model = SlaPolicy
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"wf-policy-{n}")
    name = factory.Sequence(lambda n: f"承诺{n}")


class SlaClockSpecFactory(DjangoModelFactory):
    """A one-hour resolve clock from the handler's acceptance until resolved."""

    class Meta:
        model = SlaClockSpec

    policy = factory.SubFactory(SlaPolicyFactory)
    kind = SlaClockSpec.Kind.RESOLVE
    calendar = SlaClockSpec.Calendar.CONTINUOUS
    target_minutes = 60
    warn_percent = 80
    start_on = Trigger.DISPATCH_ACCEPTED
    stop_on = factory.LazyFunction(lambda: [Trigger.RESOLVED.value])


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category

    code = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.Sequence(lambda n: f"类别{n}")
    default_handler = Category.Handler.PROPERTY_COMPANY
    default_tier = Tier.ROUTINE


class GrievanceFactory(DjangoModelFactory):
    class Meta:
        model = Grievance

    community = factory.SubFactory(CommunityFactory)
    category = factory.SubFactory(CategoryFactory)
    title = factory.Sequence(lambda n: f"楼道灯不亮{n}")
    description = "三楼楼道灯坏了一周"
    channel = Grievance.Channel.PORTAL
    status = Grievance.Status.SUBMITTED
    tier = Tier.ROUTINE
    submitted_at = NOW


class DispatchFactory(DjangoModelFactory):
    class Meta:
        model = Dispatch

    grievance = factory.SubFactory(GrievanceFactory)
    created_at = NOW


class TimelineEventFactory(DjangoModelFactory):
    class Meta:
        model = TimelineEvent

    grievance = factory.SubFactory(GrievanceFactory)
    kind = TimelineEvent.Kind.PROGRESS
    at = NOW
    note = "进展"


class AttachmentFactory(DjangoModelFactory):
    class Meta:
        model = Attachment

    grievance = factory.SubFactory(GrievanceFactory)
    kind = Attachment.Kind.REPORT
    file_path = factory.Sequence(lambda n: f"grievances/test-{n}.jpg")
    content_type = "image/jpeg"
    size = 100
    width = 10
    height = 10
    created_at = NOW


class RatingFactory(DjangoModelFactory):
    class Meta:
        model = Rating

    grievance = factory.SubFactory(GrievanceFactory)
    solved = True
    stars = 5
    created_at = NOW


class Open311ClientFactory(DjangoModelFactory):
    class Meta:
        model = Open311Client

    name = factory.Sequence(lambda n: f"应用{n}")
    community = factory.SubFactory(CommunityFactory)
    key_prefix = "abcdefgh"
    key_hash = factory.Sequence(lambda n: f"{n:064x}")


def photo_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (40, 30),
    *,
    color: tuple[int, int, int] = (200, 60, 30),
    exif: dict[int, Any] | None = None,
) -> bytes:
    """A small real image in `fmt`, optionally with EXIF tags (e.g. GPS, orientation)."""
    from PIL import Image

    image = Image.new("RGB", size, color)
    # A marker pixel: lets a test see which way up the stored photo is.
    image.putpixel((0, 0), (0, 0, 255))
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if exif:
        tags = Image.Exif()
        for key, value in exif.items():
            tags[key] = value
        options["exif"] = tags.tobytes()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def photo_upload(name: str = "after.jpg", fmt: str = "JPEG", **kwargs: Any) -> SimpleUploadedFile:
    """A photo as a browser uploads it; the name and content type are the client's claim."""
    return SimpleUploadedFile(name, photo_bytes(fmt, **kwargs), content_type="image/jpeg")


__all__ = [
    "NOW",
    "AttachmentFactory",
    "CategoryFactory",
    "DispatchFactory",
    "GrievanceFactory",
    "Open311ClientFactory",
    "RatingFactory",
    "SlaClockSpecFactory",
    "SlaPolicyFactory",
    "TimelineEventFactory",
    "UserFactory",
    "photo_bytes",
    "photo_upload",
]
