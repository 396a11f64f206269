"""/api/v1/property/ for contracts and fees: the contracts of my scope (the office registers
one), an estate's bills for a month (office and property staff) or my household's bills
(residents), recording a payment (with an `Idempotency-Key`), the collection rate of an
estate for a month and its arrears (phones masked).

Every read goes through the property selectors (outside the caller's scope: 404) and every
write is one service call whose refusal is answered as `common.refusal` says.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.models import Estate, Organization
from config.api_fields import ChoiceLabelField, refusal
from grievances.models import Category
from property_mgmt.api.common import (
    NOT_IN_SCOPE,
    NOT_YOURS,
    PAGING,
    REFUSED,
    BillingModeField,
    FeeBasisField,
    MonthField,
    PaymentMethodField,
    PropertyRefusalSerializer,
    bad_query,
    int_param,
    month_param,
    paged_schema,
    paginate,
)
from property_mgmt.models import FeeBill, FeePayment, ServiceContract
from property_mgmt.selectors import api_pages as selectors
from property_mgmt.selectors.fees import arrears, collection_rates
from property_mgmt.services.contracts import contract_create
from property_mgmt.services.fees import fee_payment_record

#: The longest Idempotency-Key kept (FeePayment.reference holds 64 characters).
KEY_MAX = 60

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="A key of your own per payment (at most 60 characters), used as the "
    "payment's reference when the body gives none; sending it again returns the first "
    "payment and records nothing more (as a repeated receipt number does).",
)


def staff_estate(request: Request, pk: int | None) -> Estate:
    """The estate if the caller works on it; else 404."""
    if pk is None:
        raise Http404
    try:
        return selectors.staff_estate_for(user=request.user, pk=pk)
    except Estate.DoesNotExist:
        raise Http404 from None


# --- output ----------------------------------------------------------------------------------


class ServiceContractOutput(serializers.Serializer):
    id = serializers.IntegerField()
    provider = serializers.IntegerField(source="provider_id")
    provider_name = serializers.CharField(source="provider.name")
    estate = serializers.IntegerField(source="estate_id")
    estate_name = serializers.CharField(source="estate.name")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(help_text="exclusive: the contract covers days before it")
    fee_basis = FeeBasisField()
    fee_basis_label = ChoiceLabelField(ServiceContract.FeeBasis, source="fee_basis")
    fee_standard = serializers.DecimalField(max_digits=8, decimal_places=2)
    billing_mode = BillingModeField()
    billing_mode_label = ChoiceLabelField(ServiceContract.BillingMode, source="billing_mode")
    serve_first_threshold = serializers.DecimalField(
        max_digits=3, decimal_places=2, allow_null=True
    )
    due_days = serializers.IntegerField()
    promises = serializers.CharField()


class FeeBillOutput(serializers.Serializer):
    id = serializers.IntegerField()
    household = serializers.IntegerField(source="household_id")
    building = serializers.IntegerField(source="building_id")
    building_number = serializers.CharField(source="building.number")
    unit_number = serializers.CharField(source="household.unit.number")
    room = serializers.CharField(source="household.room")
    period = MonthField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    paid_amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    outstanding = serializers.DecimalField(max_digits=10, decimal_places=2)
    due_on = serializers.DateField()
    payable = serializers.BooleanField(
        help_text="false: a serve-first month not released yet (satisfaction below threshold)"
    )
    paid_at = serializers.DateTimeField(allow_null=True, help_text="paid in full at")


class FeePaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    bill = serializers.IntegerField(source="bill_id")
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    method = PaymentMethodField()
    method_label = ChoiceLabelField(FeePayment.Method, source="method")
    reference = serializers.CharField()
    paid_at = serializers.DateTimeField()
    bill_paid_amount = serializers.SerializerMethodField()
    bill_paid_in_full = serializers.SerializerMethodField()
    points_awarded = serializers.SerializerMethodField(
        help_text="integrity points the household earned for paying on time (0: none)"
    )

    def get_bill_paid_amount(self, obj: FeePayment) -> str:
        return f"{obj.bill.paid_amount:.2f}"

    def get_bill_paid_in_full(self, obj: FeePayment) -> bool:
        return obj.bill.paid_at is not None

    def get_points_awarded(self, obj: FeePayment) -> int:
        award = getattr(obj, "award", None)
        return int(award.amount) if award is not None else 0


class FeeCollectionRowOutput(serializers.Serializer):
    key = serializers.IntegerField(allow_null=True, help_text="the building's id")
    label = serializers.CharField(help_text="the building's number")  # type: ignore[assignment]
    households = serializers.IntegerField(help_text="bills of the month")
    billed = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid = serializers.DecimalField(max_digits=14, decimal_places=2)
    outstanding = serializers.DecimalField(max_digits=14, decimal_places=2)
    bills_paid = serializers.IntegerField()
    rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, allow_null=True, help_text="paid ÷ billed"
    )


class FeeCollectionOutput(serializers.Serializer):
    estate = serializers.IntegerField()
    month = MonthField()
    total = FeeCollectionRowOutput()
    buildings = FeeCollectionRowOutput(many=True)


class FeeArrearsOutput(serializers.Serializer):
    household = serializers.IntegerField(source="household_id")
    building = serializers.CharField()
    unit = serializers.CharField()
    room = serializers.CharField()
    bills = serializers.IntegerField()
    outstanding = serializers.DecimalField(max_digits=14, decimal_places=2)
    oldest_period = MonthField()
    oldest_due_on = serializers.DateField()
    resident_name = serializers.CharField()
    phone = serializers.CharField(source="phone_masked", help_text="masked: 138****8000")


# --- contracts ---------------------------------------------------------------------------------


class ContractListCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        provider = serializers.PrimaryKeyRelatedField(
            queryset=Organization.objects.filter(kind=Organization.Kind.PROPERTY_COMPANY)
        )
        estate = serializers.IntegerField(min_value=1)
        starts_on = serializers.DateField()
        ends_on = serializers.DateField(help_text="exclusive")
        fee_basis = FeeBasisField()
        fee_standard = serializers.DecimalField(max_digits=8, decimal_places=2)
        billing_mode = BillingModeField(default=ServiceContract.BillingMode.NORMAL)
        serve_first_threshold = serializers.DecimalField(
            max_digits=3, decimal_places=2, required=False, allow_null=True
        )
        due_days = serializers.IntegerField(min_value=0, max_value=365, default=30)
        scope_categories = serializers.PrimaryKeyRelatedField(
            queryset=Category.objects.all(), many=True, required=False
        )
        promises = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="property_contracts_list",
        parameters=PAGING,
        responses=paged_schema("PropertyContracts", ServiceContractOutput(many=True)),
        description="The service contracts of the estates I work on (and, for property "
        "staff, of my company), newest first.",
    )
    def get(self, request: Request) -> Response:
        return paginate(
            self, request, selectors.contracts_visible(user=request.user), ServiceContractOutput
        )

    @extend_schema(
        operation_id="property_contracts_create",
        request=InputSerializer,
        responses={201: ServiceContractOutput, 400: REFUSED, 403: NOT_YOURS, 404: NOT_IN_SCOPE},
        description="Register a provider's contract for an estate (the community office); "
        "one contract per estate at a time.",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        estate = staff_estate(request, fields.pop("estate"))
        try:
            contract = contract_create(
                actor=request.user,
                estate=estate,
                scope_categories=fields.pop("scope_categories", []),
                now=timezone.now(),
                **fields,
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(ServiceContractOutput(contract).data, status=status.HTTP_201_CREATED)


# --- bills and payments ------------------------------------------------------------------------


class EstateBillsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="property_bills_list",
        parameters=[
            OpenApiParameter("estate", int, required=True),
            OpenApiParameter("month", str, required=True, description="YYYY-MM"),
            *PAGING,
        ],
        responses={
            200: paged_schema("PropertyBills", FeeBillOutput(many=True)),
            400: PropertyRefusalSerializer,
            404: NOT_IN_SCOPE,
        },
        description="An estate's bills for a month, by building and household (office, "
        "street, grid workers and the estate's property staff).",
    )
    def get(self, request: Request) -> Response:
        month = month_param(request)
        if month is None:
            return bad_query(_("Give a month as YYYY-MM, e.g. 2026-03."), "month")
        estate = staff_estate(request, int_param(request, "estate"))
        rows = selectors.estate_bills(user=request.user, estate=estate, period=month)
        return paginate(self, request, rows, FeeBillOutput)


class MyBillsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="property_bills_mine",
        parameters=PAGING,
        responses=paged_schema("PropertyMyBills", FeeBillOutput(many=True)),
        description="My household's bills, newest month first, with what is outstanding and "
        "whether the month is payable yet.",
    )
    def get(self, request: Request) -> Response:
        return paginate(self, request, selectors.my_bills(user=request.user), FeeBillOutput)


class PaymentRecordApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(max_digits=10, decimal_places=2)
        method = PaymentMethodField()
        paid_at = serializers.DateTimeField(required=False, help_text="default: now")
        reference = serializers.CharField(
            max_length=64,
            required=False,
            allow_blank=True,
            default="",
            help_text="receipt or transfer number; used once per bill",
        )

    @extend_schema(
        operation_id="property_bills_pay",
        parameters=[IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={
            201: FeePaymentOutput,
            200: OpenApiResponse(FeePaymentOutput, description="a replayed key or receipt number"),
            400: REFUSED,
            403: NOT_YOURS,
            404: NOT_IN_SCOPE,
        },
        description="Record money received against a bill (property staff of its provider "
        "or the office). Paid in full by the due date: +5 integrity points, once per bill. "
        "A serve-first month is refused until released.",
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            bill = selectors.bill_for(user=request.user, pk=pk)
        except FeeBill.DoesNotExist:
            raise Http404 from None
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > KEY_MAX:
            return bad_query(_("The Idempotency-Key is too long."), "Idempotency-Key")
        reference = fields.pop("reference").strip() or (f"key:{key}" if key else "")
        now = timezone.now()
        paid_at: dt.datetime = fields.pop("paid_at", None) or now
        try:
            payment = fee_payment_record(
                bill=bill,
                actor=request.user,
                reference=reference,
                paid_at=paid_at,
                now=now,
                **fields,
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        payment.bill = bill
        replayed = getattr(payment, "replayed", False)
        return Response(
            FeePaymentOutput(payment).data,
            status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED,
        )


# --- collection and arrears --------------------------------------------------------------------


class CollectionRateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="property_collection_rate",
        parameters=[OpenApiParameter("month", str, required=True, description="YYYY-MM")],
        responses={200: FeeCollectionOutput, 400: PropertyRefusalSerializer, 404: NOT_IN_SCOPE},
        description="The estate's collection rate for a month (收缴率), per building and in total.",
    )
    def get(self, request: Request, pk: int) -> Response:
        month = month_param(request)
        if month is None:
            return bad_query(_("Give a month as YYYY-MM, e.g. 2026-03."), "month")
        estate = staff_estate(request, pk)
        rates = collection_rates(user=request.user, estate=estate, period=month)
        body: dict[str, Any] = {
            "estate": estate.pk,
            "month": month,
            "total": rates.total,
            "buildings": rates.rows,
        }
        return Response(FeeCollectionOutput(body).data)


class ArrearsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="property_arrears",
        parameters=[
            OpenApiParameter("as_of", str, description="YYYY-MM-DD; default: today"),
            *PAGING,
        ],
        responses={
            200: paged_schema("PropertyArrears", FeeArrearsOutput(many=True)),
            400: PropertyRefusalSerializer,
            404: NOT_IN_SCOPE,
        },
        description="Households of the estate with payable bills unpaid after their due date, "
        "most owed first; the head resident's phone masked.",
    )
    def get(self, request: Request, pk: int) -> Response:
        raw = request.query_params.get("as_of", "")
        try:
            as_of = dt.date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError:
            return bad_query(_("Give a date as YYYY-MM-DD."), "as_of")
        estate = staff_estate(request, pk)
        rows = arrears(user=request.user, estate=estate, as_of=as_of)
        return paginate(self, request, rows, FeeArrearsOutput)
