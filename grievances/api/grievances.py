"""/api/v1/grievances/: list, file, read one, the categories and the duplicate check.

Everything is read through the scoped selectors: a grievance outside the caller's scope
is 404. Filing goes through `grievance_file` (which decides who may use which channel:
residents the portal and the suggestion box, grid workers their channel, the office the
hotline …); photos come as multipart `photos` fields in the same request.

Not idempotent yet: the grievances table has no unique key a client could replay
(`source_ref` is not unique), so a client that retries a timed-out POST may file twice.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.models import Building, Community, Estate, Household, Resident, Unit
from config.api_fields import ChoiceLabelField
from grievances.api.common import (
    GrievanceDetailOutput,
    GrievanceRefusalSerializer,
    GrievanceRowOutput,
    detail_response,
    paginate,
    refusal,
)
from grievances.attachments import MAX_PHOTOS
from grievances.models import Category, Grievance, Tier
from grievances.open311.selectors import open311_services
from grievances.selectors import (
    grievance_detail,
    grievance_list,
    grievance_may_see,
    grievance_possible_duplicates,
)
from grievances.selectors.f1_intake import filing_categories, intake_roles
from grievances.services import grievance_file

MAX_PK = 2**63 - 1
Channel = Grievance.Channel


def id_filter(**kwargs: Any) -> serializers.IntegerField:
    """An optional primary-key filter: out of a column's range is a 400, not a 500."""
    return serializers.IntegerField(required=False, min_value=1, max_value=MAX_PK, **kwargs)


def related(model: Any, *path: str, **kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    """An optional object by primary key, with the relations in `path` joined in."""
    return serializers.PrimaryKeyRelatedField(
        queryset=model.objects.select_related(*path) if path else model.objects.all(),
        required=False,
        allow_null=True,
        **kwargs,
    )


class JsonObjectField(serializers.JSONField):
    """A JSON object, sent as JSON or, in a multipart form, as a JSON string."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                raise serializers.ValidationError(_("Send the answers as a JSON object.")) from None
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Send the answers as a JSON object."))
        return data


#: What GrievanceRowOutput reads of a grievance and its relations.
ROW_RELATED = ("community", "category__parent", "estate", "building", "handler_organization")
ROW_COLUMNS = (
    "id",
    "title",
    "status",
    "tier",
    "channel",
    "submitted_at",
    "community__name",
    "category__name",
    "category__parent__name",
    "estate__name",
    "building__number",
    "handler_organization__name",
)


class GrievanceListCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Grievance.Status.choices, required=False)
        category = id_filter(help_text="a category or a parent category")
        estate = id_filter()
        community = id_filter()
        overdue = serializers.BooleanField(
            required=False, default=False, help_text="only those with a running clock past due"
        )

    class InputSerializer(serializers.Serializer):
        community = related(Community, help_text="optional when a place is given")
        category = serializers.PrimaryKeyRelatedField(queryset=filing_categories())
        title = serializers.CharField(max_length=120)
        description = serializers.CharField(max_length=5000)
        channel = serializers.ChoiceField(
            choices=[c for c in Channel.choices if c[0] != Channel.OPEN311],
            default=Channel.PORTAL,
        )
        # With what validate() reads to find the community, joined in.
        estate = related(Estate, "community")
        building = related(Building, "estate__community")
        unit = related(Unit, "building__estate__community")
        household = related(Household, "unit__building__estate__community")
        reporter = related(Resident, help_text="hotline: the resident called for")
        caller_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
        caller_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
        is_anonymous = serializers.BooleanField(required=False, default=False)
        latitude = serializers.CharField(max_length=32, required=False, allow_blank=True)
        longitude = serializers.CharField(max_length=32, required=False, allow_blank=True)
        address = serializers.CharField(max_length=200, required=False, allow_blank=True)
        attributes = JsonObjectField(
            required=False, help_text="answers to the category's questions (see categories)"
        )
        photos = serializers.ListField(
            child=serializers.FileField(allow_empty_file=False),
            required=False,
            max_length=MAX_PHOTOS,
            help_text="multipart: one `photos` part per photo (JPEG, PNG, WebP)",
        )

        def validate(self, data: dict[str, Any]) -> dict[str, Any]:
            if data.get("community") is None:
                place = data.get("household") or data.get("unit") or data.get("building")
                estate = data.get("estate")
                if place is not None:
                    estate = _estate_of(place)
                if estate is None:
                    # A resident filing about their home: their home's community.
                    resident = intake_roles(user=self.context["user"]).resident
                    estate = resident.household.unit.building.estate if resident else None
                if estate is None:
                    raise serializers.ValidationError(
                        {"community": _("Name the community, or a building in it.")}
                    )
                data["community"] = estate.community
            return data

    @extend_schema(
        operation_id="grievances_list",
        parameters=[
            FilterSerializer,
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
        ],
        responses=GrievanceRowOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        now = timezone.now()
        qs = grievance_list(
            user=request.user,
            status=data.get("status"),
            community=data.get("community"),
            estate=data.get("estate"),
            category=Category(pk=data["category"]) if data.get("category") else None,
            overdue_at=now if data["overdue"] else None,
        )
        # Only what a row shows: fewer joins for PostgreSQL to plan (a list is read far
        # more often than anything else here) and no descriptions or answers carried along.
        qs = qs.select_related(None).select_related(*ROW_RELATED).only(*ROW_COLUMNS)
        return paginate(self, request, qs, GrievanceRowOutput, now=now)

    @extend_schema(
        operation_id="grievances_create",
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                location=OpenApiParameter.HEADER,
                required=False,
                description="A key of your own per report (at most 100 characters): filing "
                "again with it returns the first grievance (200) and stores nothing more; "
                "with another title or category it is refused (422).",
            )
        ],
        request={
            "application/json": InputSerializer,
            "multipart/form-data": InputSerializer,
        },
        responses={
            201: GrievanceDetailOutput,
            200: OpenApiResponse(GrievanceDetailOutput, description="a replayed Idempotency-Key"),
            400: GrievanceRefusalSerializer,
            403: OpenApiResponse(
                GrievanceRefusalSerializer, description="you may not file this way here"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        now = timezone.now()
        try:
            grievance = grievance_file(
                submitted_by=request.user,
                now=now,
                # None without the header; sent but blank or too long, the service refuses.
                idempotency_key=request.headers.get("Idempotency-Key"),
                **values,
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "key_reused":
                return Response(
                    {"detail": exc.messages, "code": exc.code},
                    status=status.HTTP_422_UNPROCESSABLE_ENTITY,
                )
            return refusal(exc)
        except PermissionDenied as exc:
            return refusal(exc)
        created = (
            status.HTTP_200_OK if getattr(grievance, "replayed", False) else status.HTTP_201_CREATED
        )
        if not grievance_may_see(user=request.user, grievance=grievance):
            # An anonymous slip posted by a resident is no longer theirs to see.
            return Response({"id": grievance.pk}, status=created)
        # Answered from the rows just written (the service's instance carries the objects
        # it was given), not read back through the twelve joins of grievance_detail.
        return detail_response(
            user=request.user,
            grievance=grievance,
            now=now,
            http_status=created,
            just_filed=created == status.HTTP_201_CREATED,
        )


def _estate_of(place: Any) -> Estate:
    if isinstance(place, Household):
        return place.unit.building.estate
    if isinstance(place, Unit):
        return place.building.estate
    return place.estate


class GrievanceDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="grievances_retrieve",
        responses={200: GrievanceDetailOutput, 404: OpenApiResponse(description="not in scope")},
    )
    def get(self, request: Request, pk: int) -> Response:
        try:
            grievance = grievance_detail(user=request.user, pk=pk)
        except Grievance.DoesNotExist:
            raise Http404 from None
        return detail_response(user=request.user, grievance=grievance, now=timezone.now())


class CategoryListApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        code = serializers.CharField()
        name = serializers.CharField()
        parent_id = serializers.IntegerField(allow_null=True)
        parent_name = serializers.CharField(source="parent.name", default=None, allow_null=True)
        description = serializers.CharField()
        default_tier = serializers.ChoiceField(choices=Tier.choices)
        is_private = serializers.BooleanField(help_text="never shown publicly")
        in_contract_scope = serializers.BooleanField()
        attributes = serializers.ListField(
            child=serializers.DictField(),
            help_text="extra questions: code, datatype, required, description, values",
        )

    @extend_schema(operation_id="grievances_categories_list", responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(open311_services(), many=True).data)


class DuplicatesApi(APIView):
    """Open grievances of the same category at the same building in the last days that
    the caller may see: shown before filing a new one."""

    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all())
        building = serializers.PrimaryKeyRelatedField(queryset=Building.objects.all())
        days = serializers.IntegerField(required=False, default=7, min_value=1, max_value=60)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        title = serializers.CharField()
        status = serializers.ChoiceField(choices=Grievance.Status.choices)
        status_label = ChoiceLabelField(Grievance.Status, source="status")
        category_name = serializers.CharField(source="category.name")
        submitted_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="grievances_duplicates",
        parameters=[FilterSerializer],
        responses=OutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = grievance_possible_duplicates(
            user=request.user, now=timezone.now(), **filters.validated_data
        )[:20]
        return Response(self.OutputSerializer(rows, many=True).data)
