"""What every /api/v1/property/ endpoint shares: the refusal's schema, paging, parsing and
the choice sets.

Errors, as in the volunteers API (`config.api_fields.refusal`): a service's refusal is
400 with `detail` (its messages, in the request's language), `code` and, when it names
fields, `errors` per field; "in scope but not yours to do" is 403; anything outside the
caller's scope is 404, exactly like an unknown id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_fields import NamedChoiceField, refusal_serializer
from property_mgmt.models import (
    BlacklistEntry,
    ExpenseRequest,
    FeePayment,
    FundEntry,
    ServiceContract,
    Survey,
)

#: The body of a refusal, for the schema.
PropertyRefusalSerializer = refusal_serializer(
    "PropertyRefusal",
    codes="overlap, period, not_payable, overpay, closed, answered, rating, published, status, "
    "evidence, amount, insufficient … (400); permission_denied (403)",
)

NOT_IN_SCOPE = OpenApiResponse(description="not in scope")
NOT_YOURS = OpenApiResponse(PropertyRefusalSerializer, description="in scope, but not yours to do")
REFUSED = OpenApiResponse(PropertyRefusalSerializer, description="refused, with the reason")

PAGING = [OpenApiParameter("limit", int), OpenApiParameter("offset", int)]


class PropertyPagination(LimitOffsetPagination):
    """20 a page, at most 100; `count` with the rows (the lists are one estate's)."""

    default_limit = 20
    max_limit = 100


def paged_schema(name: str, rows: Any) -> Any:
    """The schema of a limit/offset page of `rows`."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": rows,
        },
    )


def paginate(view: APIView, request: Request, queryset: Any, serializer: Any) -> Response:
    paginator = PropertyPagination()
    page: list[Any] = paginator.paginate_queryset(queryset, request, view=view) or []
    return paginator.get_paginated_response(serializer(page, many=True).data)


@extend_schema_field(OpenApiTypes.STR)
class MonthField(serializers.Field):
    """A month as YYYY-MM, parsed to its first day."""

    default_error_messages = {"invalid": gettext_lazy("Give a month as YYYY-MM, e.g. 2026-03.")}

    def to_internal_value(self, data: Any) -> dt.date:
        try:
            return dt.datetime.strptime(str(data).strip(), "%Y-%m").date()
        except ValueError:
            self.fail("invalid")
            raise  # pragma: no cover - fail() raises

    def to_representation(self, value: dt.date) -> str:
        return f"{value:%Y-%m}"


def bad_query(message: str, field: str) -> Response:
    """400 for a missing or malformed query parameter, in the refusal shape."""
    return Response(
        {"detail": message, "code": "invalid", "errors": {field: [message]}},
        status=status.HTTP_400_BAD_REQUEST,
    )


def int_param(request: Request, name: str) -> int | None:
    """A positive integer query parameter, or None when missing or not a number."""
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**63 else None


def month_param(request: Request, name: str = "month") -> dt.date | None:
    """A YYYY-MM query parameter as its first day, or None."""
    try:
        return dt.datetime.strptime(request.query_params.get(name, ""), "%Y-%m").date()
    except ValueError:
        return None


# --- choice sets as named schema components ----------------------------------------------------


class FeeBasisField(NamedChoiceField):
    choice_set = ServiceContract.FeeBasis
    enum_name = "PropertyFeeBasisEnum"


class BillingModeField(NamedChoiceField):
    choice_set = ServiceContract.BillingMode
    enum_name = "PropertyBillingModeEnum"


class PaymentMethodField(NamedChoiceField):
    choice_set = FeePayment.Method
    enum_name = "FeePaymentMethodEnum"


class SurveyStatusField(NamedChoiceField):
    choice_set = Survey.Status
    enum_name = "SurveyStatusEnum"


class BlacklistStatusField(NamedChoiceField):
    choice_set = BlacklistEntry.Status
    enum_name = "BlacklistStatusEnum"


class ExpenseStatusField(NamedChoiceField):
    choice_set = ExpenseRequest.Status
    enum_name = "ExpenseStatusEnum"


class FundEntryKindField(NamedChoiceField):
    choice_set = FundEntry.Kind
    enum_name = "FundEntryKindEnum"


class IncomeKindField(NamedChoiceField):
    """The kinds of income a keeper or bookkeeper records."""

    choice_set = FundEntry.Kind
    enum_name = "FundIncomeKindEnum"

    @classmethod
    def enum_choices(cls) -> list[tuple[Any, Any]]:
        income = ("fee", "donation", "other_income")
        return [c for c in FundEntry.Kind.choices if c[0] in income]
