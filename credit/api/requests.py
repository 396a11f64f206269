"""/api/v1/credit/: my balance and history; manual requests asked and decided by staff;
appeals against deductions, made by the resident and decided by the office.

Residents read only their own account and appeal only their own deductions; requests and
appeals are decided by the office of the resident's community. Out of scope answers 404.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.models import Resident
from credit.models import Appeal, PointsRequest, ScoringRule
from credit.selectors import history as history_selectors
from credit.selectors import requests as selectors
from credit.services import requests as services


class NewestFirstPagination(CursorPagination):
    """Cursor pages newest first: stable while new entries arrive, no COUNT(*)."""

    ordering = "-id"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def _denied(exc: PermissionDenied) -> exceptions.PermissionDenied:
    return exceptions.PermissionDenied(str(exc) or None)


def _invalid(exc: DjangoValidationError) -> ValidationError:
    return ValidationError({"detail": exc.messages, "code": getattr(exc, "code", None)})


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="A key of your own per intended request (at most 100 characters); sending "
    "it again with the same body returns the first request (200) and asks nothing more; "
    "with a different body it is refused (422).",
)


class MyBalanceApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        resident = serializers.CharField()
        balance = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer, summary="My points balance")
    def get(self, request: Request) -> Response:
        data = history_selectors.my_balance(user=request.user)
        if data is None:
            raise Http404
        return Response(self.OutputSerializer(data).data)


class HistoryRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    kind_display = serializers.CharField()
    delta = serializers.IntegerField(help_text="Signed: + earned, − spent or deducted.")
    what = serializers.CharField(help_text="The rule, the item exchanged, or what was undone.")
    reason = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    rule = serializers.IntegerField(source="rule_id", allow_null=True)
    rule_code = serializers.CharField()
    redemption = serializers.IntegerField(source="redemption_id", allow_null=True)
    item_name = serializers.CharField()
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True)
    reversed_by = serializers.IntegerField(source="reversed_by_id", allow_null=True)
    request = serializers.IntegerField(source="request_id", allow_null=True)


class MyHistoryApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
        responses=HistoryRowSerializer(many=True),
        summary="My points history, newest first",
    )
    def get(self, request: Request) -> Response:
        entries = history_selectors.my_history_or_none(user=request.user)
        if entries is None:
            raise Http404
        paginator = NewestFirstPagination()
        page: list[Any] = paginator.paginate_queryset(entries, request, view=self) or []
        rows = [history_selectors.history_row(entry) for entry in page]
        return paginator.get_paginated_response(HistoryRowSerializer(rows, many=True).data)


class RequestOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    community = serializers.IntegerField(source="community_id")
    resident = serializers.IntegerField(source="resident_id")
    rule = serializers.IntegerField(source="rule_id")
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2)
    reason = serializers.CharField()
    evidence_note = serializers.CharField()
    requested_by = serializers.IntegerField(source="requested_by_id")
    requested_at = serializers.DateTimeField()
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    appeal_deadline = serializers.DateTimeField(allow_null=True)
    entry = serializers.IntegerField(source="entry_id", allow_null=True)


class RequestCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        resident = serializers.IntegerField()
        rule = serializers.IntegerField()
        quantity = serializers.DecimalField(
            max_digits=10, decimal_places=2, min_value=Decimal(0), default=Decimal(1)
        )
        reason = serializers.CharField(max_length=1000)
        evidence_note = serializers.CharField(max_length=200, required=False, default="")

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={
            201: RequestOutputSerializer,
            200: OpenApiResponse(RequestOutputSerializer, description="a replayed key"),
            422: OpenApiResponse(description="the key was used for a different request"),
        },
        summary="Ask for a manual award or deduction (staff; another person approves)",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            resident = selectors.request_resident_get(user=request.user, pk=values["resident"])
            rule = selectors.request_rule_get(user=request.user, pk=values["rule"])
        except (Resident.DoesNotExist, ScoringRule.DoesNotExist):
            raise Http404 from None
        try:
            created = services.points_request_create(
                actor=request.user,
                resident=resident,
                rule=rule,
                quantity=values["quantity"],
                reason=values["reason"],
                evidence_note=values["evidence_note"],
                now=timezone.now(),
                # None without the header; sent but blank or too long, the service refuses.
                key=request.headers.get("Idempotency-Key"),
            )
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "key_reused":
                return Response(
                    {"detail": exc.messages, "code": exc.code},
                    status=status.HTTP_422_UNPROCESSABLE_ENTITY,
                )
            raise _invalid(exc) from exc
        except PermissionDenied as exc:
            raise _denied(exc) from exc
        replayed = getattr(created, "replayed", False)
        return Response(
            RequestOutputSerializer(created).data,
            status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED,
        )


def _request(request: Request, pk: int) -> PointsRequest:
    try:
        return selectors.request_get(user=request.user, pk=pk)
    except PointsRequest.DoesNotExist:
        raise Http404 from None


class RequestApproveApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses=RequestOutputSerializer,
        summary="Approve a request (not your own): awards apply, deductions are notified",
    )
    def post(self, request: Request, pk: int) -> Response:
        points_request = _request(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            decided = services.points_request_approve(
                request=points_request,
                actor=request.user,
                now=timezone.now(),
                note=data.validated_data["note"],
            )
        except DjangoValidationError as exc:
            raise _invalid(exc) from exc
        except PermissionDenied as exc:
            raise _denied(exc) from exc
        return Response(RequestOutputSerializer(decided).data)


class RequestRejectApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=200)

    @extend_schema(
        request=InputSerializer,
        responses=RequestOutputSerializer,
        summary="Reject a request (not your own), saying why",
    )
    def post(self, request: Request, pk: int) -> Response:
        points_request = _request(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            decided = services.points_request_reject(
                request=points_request,
                actor=request.user,
                now=timezone.now(),
                note=data.validated_data["note"],
            )
        except DjangoValidationError as exc:
            raise _invalid(exc) from exc
        except PermissionDenied as exc:
            raise _denied(exc) from exc
        return Response(RequestOutputSerializer(decided).data)


class AppealOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    request = serializers.IntegerField(source="request_id")
    request_status = serializers.CharField(source="request.status")
    status = serializers.CharField()
    text = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()


class MyDeductionAppealApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        # Blank passes here so that the service refuses it with its code ("text").
        text = serializers.CharField(max_length=2000, allow_blank=True, default="")

    @extend_schema(
        request=InputSerializer,
        responses={201: AppealOutputSerializer},
        summary="Appeal one of my notified deductions, before its deadline (resident)",
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            deduction = selectors.my_deduction_get(user=request.user, pk=pk)
        except PointsRequest.DoesNotExist:
            raise Http404 from None
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            appeal = services.appeal_submit(
                request=deduction,
                resident_user=request.user,
                text=data.validated_data["text"],
                now=timezone.now(),
            )
        except DjangoValidationError as exc:
            raise _invalid(exc) from exc
        except PermissionDenied as exc:
            raise _denied(exc) from exc
        return Response(AppealOutputSerializer(appeal).data, status=status.HTTP_201_CREATED)


class AppealDecideApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        uphold = serializers.BooleanField(
            help_text="true: the deduction stands and is applied; false: it is cancelled."
        )
        # Blank passes here so that the service refuses it with its code ("reasons").
        reasons = serializers.CharField(max_length=2000, allow_blank=True, default="")

    @extend_schema(
        request=InputSerializer,
        responses=AppealOutputSerializer,
        summary="Decide an appeal (office; not on your own deduction), with reasons",
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            appeal = selectors.appeal_get(user=request.user, pk=pk)
        except Appeal.DoesNotExist:
            raise Http404 from None
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            decided = services.appeal_decide(
                appeal=appeal,
                actor=request.user,
                now=timezone.now(),
                uphold=data.validated_data["uphold"],
                reasons=data.validated_data["reasons"],
            )
        except DjangoValidationError as exc:
            raise _invalid(exc) from exc
        except PermissionDenied as exc:
            raise _denied(exc) from exc
        return Response(AppealOutputSerializer(decided).data)
