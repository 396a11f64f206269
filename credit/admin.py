"""Admin for the scoring standard and a read-only view of the ledger.

Entries are never added, edited or deleted here: points move only through
credit.services, so every movement has its key, rule version and actor.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from community.models import Community
from community.scoping import can_edit_registry, can_view_registry, scope_filter
from credit.models import PointsAccount, PointsEntry, ScoringRule


def _communities(request: HttpRequest) -> QuerySet[Community]:
    return scope_filter(Community.objects.all(), request.user)


@admin.register(ScoringRule)
class ScoringRuleAdmin(SimpleHistoryAdmin):
    list_display = (
        "name",
        "code",
        "category",
        "points",
        "unit",
        "version",
        "is_current",
        "community",
    )
    list_filter = ("category", "is_current", "unit")
    search_fields = ("name", "code")
    readonly_fields = ("version", "is_current", "created_at", "created_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ScoringRule]:
        qs = super().get_queryset(request).select_related("community", "street")
        if request.user.is_superuser:
            return qs
        communities = _communities(request)
        return qs.filter(
            Q(community__in=communities)
            | Q(community__isnull=True, street__communities__in=communities)
        ).distinct()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A change is a new version (credit.services.rule_revise), not an edit in place.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LedgerReadOnly(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_edit_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_registry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PointsAccount)
class PointsAccountAdmin(LedgerReadOnly):
    list_display = ("__str__", "kind", "community", "balance")
    list_filter = ("kind",)
    list_select_related = ("resident", "community")
    search_fields = ("resident__name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[PointsAccount]:
        return super().get_queryset(request).filter(community__in=_communities(request))


@admin.register(PointsEntry)
class PointsEntryAdmin(LedgerReadOnly):
    list_display = (
        "created_at",
        "kind",
        "amount",
        "debit_account",
        "credit_account",
        "rule",
        "actor",
    )
    list_filter = ("kind",)
    list_select_related = ("debit_account__resident", "credit_account__resident", "rule", "actor")
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PointsEntry]:
        return super().get_queryset(request).filter(community__in=_communities(request))


# Each part of the app registers its own models (supermarket, requests, boards).
from credit.admin_parts import boards, requests, supermarket  # noqa: E402, F401
