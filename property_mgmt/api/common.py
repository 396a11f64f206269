"""What every /api/v1/property/ endpoint shares: the refusal shape, paging and parsing.

Errors, as in the grievances and volunteers APIs: a service's refusal is 400 with
`detail` (its messages, in the request's language), `code` and, when it names fields,
`errors` per field; "in scope but not yours to do" is 403; anything outside the caller's
scope is 404, exactly like an unknown id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_field
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from property_mgmt.models import (
    BlacklistEntry,
    ExpenseRequest,
    FeePayment,
    FundEntry,
    ServiceContract,
    Survey,
)


def refusal(exc: ValidationError | PermissionDenied) -> Response:
    """The answer to a refused service call: 403, or 400 with the messages."""
    if isinstance(exc, PermissionDenied):
        return Response(
            {
                "detail": str(exc) or str(exceptions.PermissionDenied.default_detail),
                "code": "permission_denied",
            },
            status=status.HTTP_403_FORBIDDEN,
        )
    body: dict[str, Any] = {
        "detail": " ".join(str(m) for m in exc.messages),
        "code": getattr(exc, "code", None) or "invalid",
    }
    if hasattr(exc, "error_dict"):
        body["errors"] = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
        codes = {e.code for errors in exc.error_dict.values() for e in errors if e.code}
        if body["code"] == "invalid" and len(codes) == 1:
            body["code"] = codes.pop()
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


#: The body of a refusal, for the schema (a serializer field may not be named "errors").
PropertyRefusalSerializer = inline_serializer(
    name="PropertyRefusal",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(
            help_text="overlap, period, not_payable, overpay, closed, answered, rating, "
            "published, status, evidence, amount, insufficient … (400); "
            "permission_denied (403)"
        ),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="messages per field, when the refusal names fields",
        ),
    },
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


class _Choices(serializers.ChoiceField):
    """A choice field bound to one model choice set (see `_NamedEnum`)."""

    choice_set: ClassVar[type[models.Choices]]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=self.choice_set.choices, **kwargs)


class FeeBasisField(_Choices):
    choice_set = ServiceContract.FeeBasis


class BillingModeField(_Choices):
    choice_set = ServiceContract.BillingMode


class PaymentMethodField(_Choices):
    choice_set = FeePayment.Method


class SurveyStatusField(_Choices):
    choice_set = Survey.Status


class BlacklistStatusField(_Choices):
    choice_set = BlacklistEntry.Status


class ExpenseStatusField(_Choices):
    choice_set = ExpenseRequest.Status


class FundEntryKindField(_Choices):
    choice_set = FundEntry.Kind


class IncomeKindField(serializers.ChoiceField):
    """The kinds of income a keeper or bookkeeper records."""

    def __init__(self, **kwargs: Any) -> None:
        income = ("fee", "donation", "other_income")
        super().__init__(choices=[c for c in FundEntry.Kind.choices if c[0] in income], **kwargs)


class _NamedEnum(OpenApiSerializerFieldExtension):
    """A choice set as a schema component of its own name.

    Other apps have fields named "status", "kind" and "method" with other choices;
    drf-spectacular would name the shared enums after a hash and warn (the schema is built
    with --fail-on-warn), unless settings list an override.
    """

    name = ""

    def get_name(self) -> str | None:
        return self.name

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema = dict(build_choice_field(type(self.target)()))
        schema.pop("x-spec-enum-id", None)
        return schema


class FeeBasisEnum(_NamedEnum):
    target_class = FeeBasisField
    name = "PropertyFeeBasisEnum"


class BillingModeEnum(_NamedEnum):
    target_class = BillingModeField
    name = "PropertyBillingModeEnum"


class PaymentMethodEnum(_NamedEnum):
    target_class = PaymentMethodField
    name = "FeePaymentMethodEnum"


class SurveyStatusEnum(_NamedEnum):
    target_class = SurveyStatusField
    name = "SurveyStatusEnum"


class BlacklistStatusEnum(_NamedEnum):
    target_class = BlacklistStatusField
    name = "BlacklistStatusEnum"


class ExpenseStatusEnum(_NamedEnum):
    target_class = ExpenseStatusField
    name = "ExpenseStatusEnum"


class FundEntryKindEnum(_NamedEnum):
    target_class = FundEntryKindField
    name = "FundEntryKindEnum"


class IncomeKindEnum(_NamedEnum):
    target_class = IncomeKindField
    name = "FundIncomeKindEnum"
