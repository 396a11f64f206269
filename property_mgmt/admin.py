"""Django admin of property management, in 简体中文: read in the office's communities.

Bills, payments, surveys, scorecards, the black list and the funds change only through
the services on the pages (payments move a bill under a lock, a fund's entries are
append-only, a black-list entry moves by who confirmed, answered or removed it), so the
admin shows them and changes nothing. The office edits its black-list rules here;
superusers edit providers' profiles (reference data, like organizations).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from community.admin import ScopedHistoryAdmin
from community.scoping import edit_scope_for
from property_mgmt.models import (
    BlacklistEntry,
    BlacklistRule,
    ExpenseRequest,
    FeeBill,
    FeePayment,
    Fund,
    FundEntry,
    ProviderProfile,
    Scorecard,
    ServiceContract,
    Survey,
    SurveyResponse,
)


def _office_communities(user: Any) -> frozenset[int] | None:
    """The communities whose rows the user reads here; None: all (superusers)."""
    scope = edit_scope_for(user)
    return None if scope.everything else scope.community_ids


class _OfficeReadOnly(ScopedHistoryAdmin):
    """Rows of the office's communities, read only. `community_path` leads to the community."""

    community_path = "community_id"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        communities = _office_communities(request.user)
        if communities is None:
            return queryset
        return queryset.filter(**{f"{self.community_path}__in": sorted(communities)})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _office_communities(request.user) != frozenset()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProviderProfile)
class ProviderProfileAdmin(ScopedHistoryAdmin):
    list_display = ("organization", "kind", "is_red_property", "party_branch", "hotline")
    list_filter = ("kind", "is_red_property")
    search_fields = ("organization__name", "party_branch")
    raw_id_fields = ("organization",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _office_communities(request.user) != frozenset()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ServiceContract)
class ServiceContractAdmin(_OfficeReadOnly):
    community_path = "estate__community_id"
    list_display = ("provider", "estate", "starts_on", "ends_on", "fee_standard", "billing_mode")
    list_filter = ("billing_mode", "fee_basis")
    list_select_related = ("provider", "estate")


@admin.register(Survey)
class SurveyAdmin(_OfficeReadOnly):
    list_display = ("title", "provider", "period_start", "period_end", "status")
    list_filter = ("status",)
    list_select_related = ("provider",)


@admin.register(SurveyResponse)
class SurveyResponseAdmin(_OfficeReadOnly):
    community_path = "survey__community_id"
    list_display = ("survey", "household", "overall", "channel", "created_at")
    list_filter = ("channel", "overall")
    list_select_related = ("survey", "household__unit__building")
    raw_id_fields = ("household", "respondent")


@admin.register(Scorecard)
class ScorecardAdmin(_OfficeReadOnly):
    list_display = (
        "provider",
        "period_start",
        "period_end",
        "satisfaction",
        "on_time_rate",
        "collection_rate",
    )
    list_select_related = ("provider",)


@admin.register(BlacklistRule)
class BlacklistRuleAdmin(_OfficeReadOnly):
    """The office sets its own thresholds."""

    list_display = ("community", "metric", "comparison", "threshold", "is_active")
    list_filter = ("metric", "is_active")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "community":
            communities = _office_communities(request.user)
            queryset = db_field.related_model.objects.all()
            if communities is not None:
                queryset = queryset.filter(id__in=sorted(communities))
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(_OfficeReadOnly):
    list_display = ("provider", "community", "status", "proposed_at", "listed_at", "closed_at")
    list_filter = ("status",)
    list_select_related = ("provider", "community")


@admin.register(FeeBill)
class FeeBillAdmin(_OfficeReadOnly):
    community_path = "estate__community_id"
    list_display = ("household", "period", "amount", "paid_amount", "due_on", "payable_from")
    list_filter = ("period",)
    list_select_related = ("household__unit__building",)
    raw_id_fields = ("household", "contract", "building", "estate")
    show_full_result_count = False  # millions of bills: no COUNT(*) of the whole table


@admin.register(FeePayment)
class FeePaymentAdmin(_OfficeReadOnly):
    community_path = "bill__estate__community_id"
    list_display = ("bill", "amount", "method", "source", "reference", "paid_at", "recorded_by")
    list_filter = ("method", "source")
    list_select_related = ("bill__household__unit__building", "recorded_by")
    raw_id_fields = ("bill",)
    show_full_result_count = False


@admin.register(Fund)
class FundAdmin(_OfficeReadOnly):
    community_path = "estate__community_id"
    list_display = ("name", "estate", "keeper", "bookkeeper", "balance")
    list_select_related = ("estate", "keeper", "bookkeeper")


@admin.register(ExpenseRequest)
class ExpenseRequestAdmin(_OfficeReadOnly):
    community_path = "fund__estate__community_id"
    list_display = ("purpose", "fund", "amount", "status", "requested_by", "decided_by", "paid_by")
    list_filter = ("status",)
    list_select_related = ("fund", "requested_by", "decided_by", "paid_by")


@admin.register(FundEntry)
class FundEntryAdmin(_OfficeReadOnly):
    community_path = "fund__estate__community_id"
    list_display = ("fund", "occurred_on", "kind", "amount", "balance_after", "description")
    list_filter = ("kind",)
    list_select_related = ("fund",)
