"""What every /api/v1/grievances/ endpoint shares: paging, the grievance's JSON, errors.

Errors: a domain refusal is 400 with `detail` (the messages, in the request's language),
`code` and, for a form-like refusal, `errors` per field; a status conflict (the map does
not allow the move, or someone else acted first) is 409; "in scope but not yours to do"
is 403; anything outside the caller's scope is 404, exactly like an unknown id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.phone import mask_phone
from config.api_fields import ChoiceLabelField
from credit.selectors.boards import display_surname
from grievances.models import Attachment, Dispatch, Grievance, SlaClock, TimelineEvent
from grievances.selectors import (
    can_see_internal,
    grievance_photos,
    grievance_timeline,
)
from grievances.selectors.f2_detail import grievance_clocks, grievance_live_dispatch
from grievances.sla.clocks import clock_is_overdue, clock_time_left

#: Refusal codes that mean "the grievance is not (any more) where this move starts".
CONFLICT_CODES = frozenset(
    {
        "transition",
        "conflict",
        "dispatch_answered",
        "dispatch_closed",
        "not_accepted",
        "no_dispatch",
    }
)


class NewestFirstPagination(CursorPagination):
    """Cursor pages, newest id first: stable while grievances are filed, no COUNT(*)."""

    ordering = "-id"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def paginate(
    view: APIView, request: Request, queryset: Any, serializer: Any, **ctx: Any
) -> Response:
    paginator = NewestFirstPagination()
    page: list[Any] | None = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True, context=ctx).data)


def refusal(exc: ValidationError | PermissionDenied) -> Response:
    """The answer to a refused service call: 403, 409 or 400 with the messages."""
    if isinstance(exc, PermissionDenied):
        return Response(
            {"detail": str(exc) or "Permission denied.", "code": "permission_denied"},
            status=status.HTTP_403_FORBIDDEN,
        )
    body: dict[str, Any] = {
        "detail": " ".join(str(m) for m in exc.messages),
        "code": getattr(exc, "code", None) or "invalid",
    }
    if hasattr(exc, "error_dict"):
        body["errors"] = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
        codes = {e.code for errors in exc.error_dict.values() for e in errors if e.code}
        body["code"] = codes.pop() if len(codes) == 1 else "invalid"
    http = (
        status.HTTP_409_CONFLICT if body["code"] in CONFLICT_CODES else status.HTTP_400_BAD_REQUEST
    )
    return Response(body, status=http)


#: The body of a refusal, for the schema (a serializer field may not be named "errors").
GrievanceRefusalSerializer = inline_serializer(
    name="GrievanceRefusal",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(
            help_text="transition, conflict, dispatch_answered, no_dispatch (409); "
            "required, position, after_photo, location_required … (400); "
            "permission_denied (403)"
        ),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="messages per field, when the refusal names fields",
        ),
    },
)


def photo_url(pk: int) -> str:
    """The scoped photo view of the grievance pages (it checks the viewer again)."""
    try:
        return reverse("grievances:photo", args=[pk])
    except NoReverseMatch:  # pragma: no cover - the route ships with the grievance pages
        return f"/grievances/photos/{pk}/"


def time_left_seconds(clock: SlaClock, now: dt.datetime) -> int | None:
    left = clock_time_left(clock, now)
    return None if left is None else int(left.total_seconds())


# --- output ----------------------------------------------------------------------------------


class GrievanceRowOutput(serializers.Serializer):
    """A grievance in a list: what a queue or a list shows, with its next running clock."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Grievance.Status.choices)
    status_label = ChoiceLabelField(Grievance.Status, source="status")
    tier = serializers.ChoiceField(choices=Grievance._meta.get_field("tier").choices)  # type: ignore[arg-type]
    channel = serializers.ChoiceField(choices=Grievance.Channel.choices)
    category = serializers.IntegerField(source="category_id")
    category_name = serializers.CharField(source="category.__str__")
    community = serializers.IntegerField(source="community_id")
    community_name = serializers.CharField(source="community.name")
    estate = serializers.IntegerField(source="estate_id", allow_null=True)
    estate_name = serializers.CharField(source="estate.name", default=None, allow_null=True)
    building = serializers.IntegerField(source="building_id", allow_null=True)
    building_number = serializers.CharField(source="building.number", default=None, allow_null=True)
    handler_organization = serializers.IntegerField(
        source="handler_organization_id", allow_null=True
    )
    handler_organization_name = serializers.CharField(
        source="handler_organization.name", default=None, allow_null=True
    )
    submitted_at = serializers.DateTimeField()
    next_due_at = serializers.DateTimeField(
        source="next_due", allow_null=True, help_text="due time of the earliest running clock"
    )
    time_left_seconds = serializers.SerializerMethodField(
        help_text="until next_due_at; negative when overdue; null without a running clock"
    )
    overdue = serializers.SerializerMethodField()

    def _left(self, obj: Grievance) -> int | None:
        due = getattr(obj, "next_due", None)
        if due is None:
            return None
        return int((due - self.context["now"]).total_seconds())

    def get_time_left_seconds(self, obj: Grievance) -> int | None:
        return self._left(obj)

    def get_overdue(self, obj: Grievance) -> bool:
        left = self._left(obj)
        return left is not None and left < 0


class GrievanceClockOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SlaClock._meta.get_field("kind").choices)  # type: ignore[arg-type]
    kind_label = ChoiceLabelField(SlaClock._meta.get_field("kind").choices, source="kind")  # type: ignore[arg-type]
    state = serializers.ChoiceField(choices=SlaClock.State.choices)
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    time_left_seconds = serializers.SerializerMethodField(
        help_text="negative when overdue, frozen while paused, null once stopped or cancelled"
    )
    overdue = serializers.SerializerMethodField()
    met_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)

    def get_time_left_seconds(self, obj: SlaClock) -> int | None:
        return time_left_seconds(obj, self.context["now"])

    def get_overdue(self, obj: SlaClock) -> bool:
        return clock_is_overdue(obj, self.context["now"])


class GrievancePhotoOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Attachment.Kind.choices)
    url = serializers.SerializerMethodField()
    content_type = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_url(self, obj: Attachment) -> str:
        return photo_url(obj.pk)


class GrievanceTimelineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=TimelineEvent.Kind.choices)
    kind_label = ChoiceLabelField(TimelineEvent.Kind, source="kind")
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField(help_text="surname only to residents")
    old_value = serializers.CharField()
    new_value = serializers.CharField()
    note = serializers.CharField()
    is_public = serializers.BooleanField()
    photos = serializers.SerializerMethodField()

    def get_actor(self, obj: TimelineEvent) -> str | None:
        if obj.actor is None:
            return None
        if self.context["internal"] or obj.actor_id == self.context["viewer_id"]:
            return obj.actor.name
        return display_surname(obj.actor.name)

    def get_photos(self, obj: TimelineEvent) -> list[int]:
        filed = self.context.get("filed_photos")
        if filed is not None:  # the grievance was just filed: its photos are at hand
            return filed.get(obj.pk, [])
        return [a.pk for a in obj.attachments.all()]


class GrievanceDispatchOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Dispatch.Status.choices)
    organization = serializers.IntegerField(source="organization_id", allow_null=True)
    organization_name = serializers.CharField(
        source="organization.name", default=None, allow_null=True
    )
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True)
    assignee_name = serializers.CharField(source="assignee.name", default=None, allow_null=True)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class GrievanceDetailOutput(GrievanceRowOutput):
    """A grievance with its clocks, live dispatch, timeline and photos as the caller may
    see them (internal notes and their photos only for those who work on it)."""

    next_due_at = None  # type: ignore[assignment]
    time_left_seconds = None  # type: ignore[assignment]
    overdue = None  # type: ignore[assignment]
    description = serializers.CharField()
    address = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    attributes = serializers.DictField()
    is_public = serializers.BooleanField()
    is_anonymous = serializers.BooleanField()
    reporter_name = serializers.SerializerMethodField(help_text="surname only to non-staff")
    phone = serializers.SerializerMethodField(help_text="masked")
    accepted_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    reopen_count = serializers.IntegerField()
    plan = serializers.CharField()
    plan_due = serializers.DateField(allow_null=True)
    resolution = serializers.CharField()
    rejection_reason = serializers.CharField()
    waiting_reason = serializers.CharField()
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    overdue_clocks = serializers.SerializerMethodField()
    clocks = serializers.SerializerMethodField()
    dispatch = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    def get_reporter_name(self, obj: Grievance) -> str:
        if obj.is_anonymous:
            return ""
        name = obj.reporter.name if obj.reporter is not None else obj.caller_name
        own = obj.reporter is not None and obj.reporter.user_id == self.context["viewer_id"]
        if self.context["internal"] or own or not name:
            return name
        return display_surname(name)

    def get_phone(self, obj: Grievance) -> str:
        if obj.is_anonymous:
            return ""
        phone = obj.caller_phone or (obj.reporter.phone if obj.reporter is not None else "")
        return mask_phone(phone)

    def get_overdue_clocks(self, obj: Grievance) -> int:
        return sum(clock_is_overdue(c, self.context["now"]) for c in self.context["clocks"])

    @extend_schema_field(GrievanceClockOutput(many=True))
    def get_clocks(self, obj: Grievance) -> Any:
        return GrievanceClockOutput(self.context["clocks"], many=True, context=self.context).data

    @extend_schema_field(GrievanceDispatchOutput(allow_null=True))
    def get_dispatch(self, obj: Grievance) -> Any:
        dispatch = self.context["dispatch"]
        return None if dispatch is None else GrievanceDispatchOutput(dispatch).data

    @extend_schema_field(GrievanceTimelineOutput(many=True))
    def get_timeline(self, obj: Grievance) -> Any:
        return GrievanceTimelineOutput(
            self.context["timeline"], many=True, context=self.context
        ).data

    @extend_schema_field(GrievancePhotoOutput(many=True))
    def get_photos(self, obj: Grievance) -> Any:
        return GrievancePhotoOutput(self.context["photos"], many=True).data


def detail_response(
    *,
    user: Any,
    grievance: Grievance,
    now: dt.datetime,
    http_status: int = 200,
    just_filed: bool = False,
) -> Response:
    """The grievance (read through the scoped selectors) as the detail endpoint shows it.

    `just_filed`: the grievance was filed by this request, so nobody has dispatched it yet.
    """
    internal = can_see_internal(user, grievance)
    filed = getattr(grievance, "filed_rows", None) if just_filed else None
    if filed is not None:
        # Just filed by this request: answered from the rows the service wrote (the
        # first timeline line, its photos, the clocks it started), nothing read back.
        shown = internal or filed.event.is_public
        context = {
            "now": now,
            "viewer_id": user.pk,
            "internal": internal,
            "clocks": filed.clocks,
            "dispatch": None,
            "timeline": [filed.event] if shown else [],
            "photos": filed.photos if shown else [],
            "filed_photos": {filed.event.pk: [a.pk for a in filed.photos]},
        }
        return Response(GrievanceDetailOutput(grievance, context=context).data, status=http_status)
    context = {
        "now": now,
        "viewer_id": user.pk,
        "internal": internal,
        "clocks": grievance_clocks(grievance=grievance),
        "dispatch": None if just_filed else grievance_live_dispatch(grievance=grievance),
        "timeline": list(grievance_timeline(user=user, grievance=grievance)),
        "photos": list(grievance_photos(user=user, grievance=grievance)),
    }
    return Response(GrievanceDetailOutput(grievance, context=context).data, status=http_status)
