"""/api/v1/property/ for self-managed funds (自管委资金): an estate's fund with what waits for
me, recording income, requesting an expense with quote photos (multipart), deciding,
paying (with receipt photos), booking, correcting an entry, and the public ledger of an
estate for a year (names masked).

Who sees a fund's inside is the funds selectors' rule (the estate's committee, its office,
its street): anyone else gets 404. Each write is one service call; "one keeps the money,
one keeps the books" and "never the requester approves" are the services' refusals (403).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.models import Estate, Household
from config.api_fields import ChoiceLabelField, refusal
from property_mgmt.api.common import (
    NOT_IN_SCOPE,
    NOT_YOURS,
    REFUSED,
    ExpenseStatusField,
    FundEntryKindField,
    IncomeKindField,
)
from property_mgmt.models import ExpenseRequest, Fund, FundEntry
from property_mgmt.selectors import api_pages
from property_mgmt.selectors.funds import expense_queue, fund_for, public_ledger
from property_mgmt.selectors.funds_pages import (
    entry_for,
    expense_for,
    fund_estate_for,
    ledger_estate_for,
)
from property_mgmt.services.funds import (
    expense_book,
    expense_decide,
    expense_pay,
    expense_request,
    fund_entry_correct,
    fund_income_record,
)


def money(**kwargs: Any) -> serializers.DecimalField:
    """An amount of the fund in RMB (FundEntry.amount's precision)."""
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def visible_fund(request: Request, estate_id: int) -> Fund:
    """The estate's fund if the caller may see its inside; else 404."""
    try:
        estate = fund_estate_for(user=request.user, estate_id=estate_id)
        return fund_for(user=request.user, estate=estate)
    except (Estate.DoesNotExist, Fund.DoesNotExist):
        raise Http404 from None


def visible_expense(request: Request, pk: int) -> ExpenseRequest:
    try:
        return expense_for(user=request.user, pk=pk)
    except ExpenseRequest.DoesNotExist:
        raise Http404 from None


# --- output ----------------------------------------------------------------------------------


class FundExpenseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    fund = serializers.IntegerField(source="fund_id")
    purpose = serializers.CharField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    status = ExpenseStatusField()
    status_label = ChoiceLabelField(ExpenseRequest.Status, source="status")
    requested_by = serializers.IntegerField(source="requested_by_id")
    requested_at = serializers.DateTimeField()
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    paid_by = serializers.IntegerField(source="paid_by_id", allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    booked_by = serializers.IntegerField(source="booked_by_id", allow_null=True)
    booked_at = serializers.DateTimeField(allow_null=True)


class FundEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    fund = serializers.IntegerField(source="fund_id")
    kind = FundEntryKindField()
    kind_label = ChoiceLabelField(FundEntry.Kind, source="kind")
    amount = money(help_text="income positive, expense negative")
    balance_after = money()
    household = serializers.IntegerField(source="household_id", allow_null=True)
    description = serializers.CharField()
    occurred_on = serializers.DateField()
    corrects = serializers.IntegerField(source="corrects_id", allow_null=True)


class FundOutput(serializers.Serializer):
    id = serializers.IntegerField()
    estate = serializers.IntegerField(source="estate_id")
    name = serializers.CharField()
    keeper = serializers.IntegerField(source="keeper_id")
    keeper_name = serializers.CharField(source="keeper.name")
    bookkeeper = serializers.IntegerField(source="bookkeeper_id")
    bookkeeper_name = serializers.CharField(source="bookkeeper.name")
    annual_fee = serializers.DecimalField(max_digits=8, decimal_places=2)
    balance = money()
    to_decide = FundExpenseOutput(many=True, help_text="others' requests for me to approve")
    to_pay = FundExpenseOutput(many=True, help_text="approved, for me (the keeper) to pay")
    to_book = FundExpenseOutput(many=True, help_text="paid, for me (the bookkeeper) to book")
    open = FundExpenseOutput(many=True, help_text="every unfinished request")


class FundLedgerLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_on = serializers.DateField()
    kind = FundEntryKindField()
    kind_label = serializers.CharField()
    description = serializers.CharField()
    amount = money()
    balance = money()
    payer = serializers.CharField(help_text="building and surname only")
    requested_by = serializers.CharField(help_text="surname only")
    approved_by = serializers.CharField(help_text="surname only")
    paid_by = serializers.CharField(help_text="surname only")
    booked_by = serializers.CharField(help_text="surname only")
    status = serializers.CharField()
    corrects = serializers.IntegerField(source="corrects_id", allow_null=True)


class FundLedgerMonthOutput(serializers.Serializer):
    month = serializers.IntegerField()
    income = money()
    expense = money()
    corrections = money()
    opening_balance = money()
    closing_balance = money()
    lines = FundLedgerLineOutput(many=True)


class FundLedgerOutput(serializers.Serializer):
    estate_name = serializers.CharField()
    fund_name = serializers.CharField()
    year = serializers.IntegerField()
    keeper = serializers.CharField(help_text="surname only")
    bookkeeper = serializers.CharField(help_text="surname only")
    opening_balance = money()
    closing_balance = money()
    balance_now = money()
    income = money()
    expense = money()
    months = FundLedgerMonthOutput(many=True)


PHOTOS_REQUEST = {
    "multipart/form-data": inline_serializer(
        name="ExpenseRequestForm",
        fields={
            "purpose": serializers.CharField(max_length=200),
            "amount": serializers.DecimalField(max_digits=10, decimal_places=2),
            "photos": serializers.ListField(
                child=serializers.FileField(), required=False, help_text="quotes, as photos"
            ),
        },
    )
}
RECEIPTS_REQUEST = {
    "multipart/form-data": inline_serializer(
        name="ExpensePayForm",
        fields={
            "receipts": serializers.ListField(
                child=serializers.FileField(), required=False, help_text="receipts, as photos"
            )
        },
    )
}


# --- the fund --------------------------------------------------------------------------------


class FundApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="property_funds_retrieve",
        responses={200: FundOutput, 404: NOT_IN_SCOPE},
        description="The estate's fund, its balance and what waits for me (to approve, to "
        "pay, to book), for its committee, its office and its street.",
    )
    def get(self, request: Request, estate_id: int) -> Response:
        fund = visible_fund(request, estate_id)
        queue = expense_queue(user=request.user, fund=fund)
        body: dict[str, Any] = {
            "id": fund.pk,
            "estate_id": fund.estate_id,
            "name": fund.name,
            "keeper_id": fund.keeper_id,
            "keeper": fund.keeper,
            "bookkeeper_id": fund.bookkeeper_id,
            "bookkeeper": fund.bookkeeper,
            "annual_fee": fund.annual_fee,
            "balance": fund.balance,
            "to_decide": queue.to_decide,
            "to_pay": queue.to_pay,
            "to_book": queue.to_book,
            "open": queue.open,
        }
        return Response(FundOutput(body).data)


class IncomeApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        kind = IncomeKindField()
        amount = serializers.DecimalField(max_digits=10, decimal_places=2)
        occurred_on = serializers.DateField()
        household = serializers.IntegerField(
            min_value=1, required=False, help_text="the household paying the annual fee"
        )
        payer_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(
        operation_id="property_funds_income",
        request=InputSerializer,
        responses={201: FundEntryOutput, 400: REFUSED, 403: NOT_YOURS, 404: NOT_IN_SCOPE},
        description="Record income (the keeper or the bookkeeper): a household's annual fee, "
        "a donation, other income.",
    )
    def post(self, request: Request, estate_id: int) -> Response:
        fund = visible_fund(request, estate_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        household = None
        if "household" in fields:
            try:
                household = api_pages.estate_household(
                    estate=fund.estate, pk=fields.pop("household")
                )
            except Household.DoesNotExist:
                raise Http404 from None
        try:
            entry = fund_income_record(
                fund=fund, actor=request.user, household=household, now=timezone.now(), **fields
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(FundEntryOutput(entry).data, status=status.HTTP_201_CREATED)


class ExpenseCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="property_funds_expense_request",
        request=PHOTOS_REQUEST,
        responses={201: FundExpenseOutput, 400: REFUSED, 403: NOT_YOURS, 404: NOT_IN_SCOPE},
        description="Request an expense (a committee member), with quotes as photos; another "
        "member must approve it.",
    )
    def post(self, request: Request, estate_id: int) -> Response:
        fund = visible_fund(request, estate_id)
        form: Any = request.data
        try:
            expense = expense_request(
                fund=fund,
                actor=request.user,
                purpose=str(form.get("purpose", "")),
                amount=form.get("amount", ""),
                photos=request.FILES.getlist("photos"),
                now=timezone.now(),
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(FundExpenseOutput(expense).data, status=status.HTTP_201_CREATED)


# --- an expense's way --------------------------------------------------------------------------

EXPENSE_RESPONSES = {200: FundExpenseOutput, 400: REFUSED, 403: NOT_YOURS, 404: NOT_IN_SCOPE}


class ExpenseDecideApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        approve = serializers.BooleanField()
        note = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="required to reject"
        )

    @extend_schema(
        operation_id="property_expenses_decide",
        request=InputSerializer,
        responses=EXPENSE_RESPONSES,
        description="Approve or reject a request (a committee member other than the requester).",
    )
    def post(self, request: Request, pk: int) -> Response:
        expense = visible_expense(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            expense = expense_decide(
                expense=expense, actor=request.user, now=timezone.now(), **data.validated_data
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(FundExpenseOutput(expense).data)


class ExpensePayApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="property_expenses_pay",
        request=RECEIPTS_REQUEST,
        responses=EXPENSE_RESPONSES,
        description="Pay an approved expense (the keeper), with receipts; refused when the "
        "fund cannot afford it.",
    )
    def post(self, request: Request, pk: int) -> Response:
        expense = visible_expense(request, pk)
        try:
            expense = expense_pay(
                expense=expense,
                actor=request.user,
                receipts=request.FILES.getlist("receipts"),
                now=timezone.now(),
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(FundExpenseOutput(expense).data)


class ExpenseBookApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="property_expenses_book",
        request=None,
        responses=EXPENSE_RESPONSES,
        description="Book a paid expense (the bookkeeper, not the one who paid it).",
    )
    def post(self, request: Request, pk: int) -> Response:
        expense = visible_expense(request, pk)
        try:
            expense = expense_book(expense=expense, actor=request.user, now=timezone.now())
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(FundExpenseOutput(expense).data)


class EntryCorrectApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(
            max_digits=12, decimal_places=2, help_text="the signed change, e.g. -270.00"
        )
        reason = serializers.CharField(max_length=200)

    @extend_schema(
        operation_id="property_entries_correct",
        request=InputSerializer,
        responses={201: FundEntryOutput, 400: REFUSED, 403: NOT_YOURS, 404: NOT_IN_SCOPE},
        description="Correct an entry with a new one pointing at it (the bookkeeper); "
        "entries are never edited.",
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            entry = entry_for(user=request.user, pk=pk)
        except FundEntry.DoesNotExist:
            raise Http404 from None
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            correction = fund_entry_correct(
                entry=entry, actor=request.user, now=timezone.now(), **data.validated_data
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(FundEntryOutput(correction).data, status=status.HTTP_201_CREATED)


# --- the public ledger -------------------------------------------------------------------------


class PublicLedgerApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="property_funds_ledger",
        responses={200: FundLedgerOutput, 404: NOT_IN_SCOPE},
        description="The estate's fund ledger for a year, month by month, every income and "
        "expense with its approvals; names masked (surname only), no phones. For anyone "
        "who lives in or serves the estate's community.",
    )
    def get(self, request: Request, estate_id: int, year: int) -> Response:
        if not 2000 <= year <= 2100:
            raise Http404
        try:
            estate = ledger_estate_for(user=request.user, estate_id=estate_id)
        except Estate.DoesNotExist:
            raise Http404 from None
        ledger = public_ledger(estate=estate, year=year)
        return Response(FundLedgerOutput(ledger).data)
