"""/api/v1/credit/ endpoints of the credit supermarket (信用超市).

A resident reads the catalogue and their own redemptions and redeems with an
`Idempotency-Key` header (a replay answers 200 with the first result, a creation 201);
a clerk hands items over by pickup code. Anything outside the caller's scope is 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.models import Resident
from credit.models import Redemption, SupermarketItem
from credit.selectors import supermarket as selectors
from credit.services.supermarket import redemption_create, redemption_fulfil

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A key of your own per intended redemption (at most 100 characters); "
    "sending it again returns the first result and redeems nothing more.",
)


class ItemPagination(CursorPagination):
    ordering = "id"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class NewestFirstPagination(ItemPagination):
    ordering = "-id"


def _paginate(
    view: APIView, request: Request, queryset: Any, serializer: Any, pagination: type
) -> Response:
    paginator = pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


def _resident(request: Request) -> Resident:
    resident = selectors.resident_of_user(user=request.user)
    if resident is None:
        raise Http404
    return resident


def _refusal(exc: ValidationError, http_status: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response(
        {"detail": " ".join(str(m) for m in exc.messages), "code": exc.code or "invalid"},
        status=http_status,
    )


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="closed, out_of_stock, insufficient, limit_reached, inactive, used, expired …"
    )


class RedemptionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField(source="item_id")
    item_name = serializers.CharField(source="item.name")
    quantity = serializers.IntegerField()
    points = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Redemption.Status.choices)
    pickup_code = serializers.CharField()
    reserved_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    fulfilled_at = serializers.DateTimeField(allow_null=True)


class CatalogueApi(APIView):
    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        affordable = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.ChoiceField(choices=SupermarketItem.Kind.choices)
        name = serializers.CharField()
        description = serializers.CharField()
        points_price = serializers.IntegerField()
        stock = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
        limit_per_resident = serializers.IntegerField(allow_null=True)
        limit_period = serializers.ChoiceField(choices=SupermarketItem.LimitPeriod.choices)
        remaining_limit = serializers.IntegerField(allow_null=True)
        can_afford = serializers.BooleanField()
        provider = serializers.CharField(source="provider.name", default=None, allow_null=True)

    @extend_schema(
        operation_id="credit_shop_items_list",
        parameters=[
            FilterSerializer,
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
        ],
        responses=OutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        resident = _resident(request)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        items = selectors.catalogue_for_resident(
            resident=resident,
            now=timezone.now(),
            balance=selectors.resident_balance(resident=resident),
            affordable_only=filters.validated_data["affordable"],
        )
        return _paginate(self, request, items, self.OutputSerializer, ItemPagination)


class RedemptionListCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        item = serializers.IntegerField()
        quantity = serializers.IntegerField(min_value=1, max_value=99, default=1)

    @extend_schema(
        operation_id="credit_shop_redemptions_list",
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
        responses=RedemptionOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        _resident(request)
        return _paginate(
            self,
            request,
            selectors.redemptions_of_user(user=request.user),
            RedemptionOutputSerializer,
            NewestFirstPagination,
        )

    @extend_schema(
        operation_id="credit_shop_redemptions_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={
            201: RedemptionOutputSerializer,
            200: OpenApiResponse(RedemptionOutputSerializer, description="a replayed key"),
            400: RefusalSerializer,
            404: OpenApiResponse(description="no such item in your community"),
        },
    )
    def post(self, request: Request) -> Response:
        resident = _resident(request)
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return Response(
                {"detail": _("The Idempotency-Key header is required."), "code": "key"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        now = timezone.now()
        try:
            item = selectors.shop_item_for(resident=resident, pk=data.validated_data["item"])
        except SupermarketItem.DoesNotExist:
            raise Http404 from None
        try:
            redemption = redemption_create(
                resident=resident,
                item=item,
                quantity=data.validated_data["quantity"],
                key=key,
                now=now,
                actor=request.user,
            )
        except ValidationError as exc:
            return _refusal(exc)
        replayed = getattr(redemption, "replayed", False)
        return Response(
            RedemptionOutputSerializer(redemption).data,
            status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED,
        )


class ClerkFulfilApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=20)

    class OutputSerializer(RedemptionOutputSerializer):
        resident_name = serializers.CharField(source="resident.name")

    @extend_schema(
        operation_id="credit_clerk_fulfil",
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: RefusalSerializer,
            404: OpenApiResponse(description="no reservation with this code at your desk"),
        },
    )
    def post(self, request: Request) -> Response:
        if not selectors.is_clerk(user=request.user):
            raise Http404
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            redemption = redemption_fulfil(
                code=data.validated_data["code"], clerk=request.user, now=timezone.now()
            )
        except ValidationError as exc:
            if exc.code == "unknown_code":
                return _refusal(exc, status.HTTP_404_NOT_FOUND)
            return _refusal(exc)
        except PermissionDenied:
            raise Http404 from None
        return Response(self.OutputSerializer(redemption).data)
