"""/api/v1/ registry endpoints. Scoped by the caller; out of scope answers 404."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community import selectors
from community.models import Building, Household, Resident
from community.privacy import hash_id_number, mask_phone, normalize_id_number, validate_id_number


class IdPagination(CursorPagination):
    """Cursor pages in id order: stable under inserts, and no COUNT(*) over the registry."""

    ordering = "id"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class RegistryPermission(IsAuthenticated):
    """Authenticated; what is visible is decided by scoping, not here."""


def id_filter(**kwargs: Any) -> serializers.IntegerField:
    """An optional primary-key filter: out of a column's range is a 400, not a 500."""
    return serializers.IntegerField(
        required=False, min_value=1, max_value=selectors.MAX_PK, **kwargs
    )


def paginate(view: APIView, request: Request, queryset: Any, serializer: Any) -> Response:
    paginator = IdPagination()
    page: list[Any] | None = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


def _address(household: Household) -> str:
    unit = household.unit
    building = unit.building
    return f"{building.estate.name} {building.number} {unit.number} {household.room}"


class ResidentListApi(APIView):
    permission_classes = [RegistryPermission]

    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(required=False, default="", max_length=50)
        estate = id_filter(source="estate_id")
        building = id_filter(source="building_id")
        grid = id_filter(source="grid_id")
        tag = serializers.CharField(required=False, default="")
        status = serializers.ChoiceField(
            choices=Resident.Status.choices, required=False, default=""
        )

        def validate_search(self, value: str) -> str:
            # A whole ID number in a query string ends up in access logs and histories.
            if selectors.is_id_number_like(value):
                raise serializers.ValidationError(
                    _(
                        "Do not put an ID number in the address: POST it as "
                        '{"id_number": "…"} to %(url)s.'
                    )
                    % {"url": reverse("community-api:resident-lookup")}
                )
            return value

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        gender = serializers.CharField()
        phone = serializers.CharField(source="phone_masked")
        id_number = serializers.CharField(source="id_number_masked")
        household = serializers.IntegerField(source="household_id")
        address = serializers.SerializerMethodField()
        relation_to_head = serializers.CharField()
        tags = serializers.SerializerMethodField()
        status = serializers.CharField()

        def get_address(self, obj: Resident) -> str:
            return _address(obj.household)

        def get_tags(self, obj: Resident) -> list[str]:
            return sorted(tag.code for tag in obj.tag_list)  # type: ignore[attr-defined]

    @extend_schema(
        parameters=[
            FilterSerializer,
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
        ],
        responses=OutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.resident_list(user=request.user, **filters.validated_data)
        return paginate(self, request, qs, self.OutputSerializer)


class ResidentLookupApi(APIView):
    """Find a resident by a whole ID number, sent in the body (never in the URL)."""

    permission_classes = [RegistryPermission]

    class InputSerializer(serializers.Serializer):
        id_number = serializers.CharField(max_length=30, trim_whitespace=True)

        def validate_id_number(self, value: str) -> str:
            number = normalize_id_number(value)
            try:
                validate_id_number(number)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from None
            return number

    @extend_schema(
        request=InputSerializer,
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
        responses=ResidentListApi.OutputSerializer(many=True),
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        qs = selectors.resident_list(
            user=request.user, id_number_hash=hash_id_number(data.validated_data["id_number"])
        )
        return paginate(self, request, qs, ResidentListApi.OutputSerializer)


class ResidentDetailApi(APIView):
    permission_classes = [RegistryPermission]

    class OutputSerializer(serializers.Serializer):
        """Reads the row of selectors.resident_detail (a dict, not a model)."""

        id = serializers.IntegerField()
        name = serializers.CharField()
        gender = serializers.CharField()
        phone = serializers.SerializerMethodField()
        id_number = serializers.CharField(source="id_number_masked")
        household = serializers.IntegerField(source="household_id")
        address = serializers.SerializerMethodField()
        relation_to_head = serializers.CharField()
        tags = serializers.SerializerMethodField()
        status = serializers.CharField()
        # The year only: the 8 hidden digits of the masked ID number are the birth date.
        birth_year = serializers.SerializerMethodField()
        moved_in_on = serializers.DateField()
        moved_out_on = serializers.DateField()

        def get_phone(self, row: dict[str, Any]) -> str:
            return mask_phone(row["phone"])

        def get_birth_year(self, row: dict[str, Any]) -> int | None:
            birth = row["birth_date"]  # a date, or its ISO text from a raw SQLite cursor
            if not birth:
                return None
            return int(birth[:4]) if isinstance(birth, str) else int(birth.year)

        def get_address(self, row: dict[str, Any]) -> str:
            return (
                f"{row['household__unit__building__estate__name']}"
                f" {row['household__unit__building__number']}"
                f" {row['household__unit__number']} {row['household__room']}"
            )

        def get_tags(self, row: dict[str, Any]) -> list[str]:
            return sorted(code for code in row["tag_codes"].split(",") if code)

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        try:
            row = selectors.resident_detail(user=request.user, pk=pk)
        except Resident.DoesNotExist:
            raise Http404 from None
        return Response(self.OutputSerializer(row).data)


class HouseholdListApi(APIView):
    permission_classes = [RegistryPermission]

    class FilterSerializer(serializers.Serializer):
        building = id_filter(source="building_id")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        room = serializers.CharField()
        unit = serializers.CharField(source="unit.number")
        building = serializers.IntegerField(source="unit.building_id")
        address = serializers.SerializerMethodField()
        area_m2 = serializers.DecimalField(max_digits=7, decimal_places=2)
        resident_count = serializers.IntegerField()

        def get_address(self, obj: Household) -> str:
            return _address(obj)

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.household_list(user=request.user, **filters.validated_data)
        return paginate(self, request, qs, self.OutputSerializer)


class HouseholdDetailApi(APIView):
    permission_classes = [RegistryPermission]

    class OutputSerializer(HouseholdListApi.OutputSerializer):
        residents = serializers.SerializerMethodField()

        def get_residents(self, obj: Household) -> list[dict[str, Any]]:
            members = selectors.household_members(user=self.context["user"], household=obj)
            return ResidentListApi.OutputSerializer(members, many=True).data  # type: ignore[return-value]

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        try:
            household = selectors.household_get(user=request.user, pk=pk)
        except Household.DoesNotExist:
            raise Http404 from None
        return Response(self.OutputSerializer(household, context={"user": request.user}).data)


class BuildingListApi(APIView):
    permission_classes = [RegistryPermission]

    class FilterSerializer(serializers.Serializer):
        estate = id_filter(source="estate_id")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        estate = serializers.CharField(source="estate.name")
        grid = serializers.CharField(source="grid.name", default=None)
        floors = serializers.IntegerField()
        household_count = serializers.IntegerField()

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.building_list(user=request.user, **filters.validated_data)
        return paginate(self, request, qs, self.OutputSerializer)


class BuildingDetailApi(APIView):
    permission_classes = [RegistryPermission]

    @extend_schema(responses=BuildingListApi.OutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        try:
            building = selectors.building_list(user=request.user).get(pk=pk)
        except Building.DoesNotExist:
            raise Http404 from None
        return Response(BuildingListApi.OutputSerializer(building).data)


class GridListApi(APIView):
    permission_classes = [RegistryPermission]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        community = serializers.CharField(source="community.name")
        building_count = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginate(
            self, request, selectors.grid_list(user=request.user), self.OutputSerializer
        )
