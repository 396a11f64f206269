"""Admin of manual requests and appeals: read-mostly, scoped to the user's communities.

Requests are asked and decided on the points workbench (credit.services.requests), so
every change goes through maker-checker and the status map; the admin only shows them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from credit.models import Appeal, PointsRequest
from credit.selectors.requests import can_view_points_office, office_communities


class _ReadMostly(SimpleHistoryAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_points_office(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_points_office(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PointsRequest)
class PointsRequestAdmin(_ReadMostly):
    list_display = (
        "id",
        "kind",
        "status",
        "resident",
        "rule",
        "quantity",
        "requested_by",
        "requested_at",
        "decided_by",
        "appeal_deadline",
    )
    list_filter = ("kind", "status")
    list_select_related = ("resident", "rule", "requested_by", "decided_by")
    search_fields = ("resident__name", "reason")
    date_hierarchy = "requested_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PointsRequest]:
        return (
            super()
            .get_queryset(request)
            .filter(community__in=office_communities(user=request.user))
        )


@admin.register(Appeal)
class AppealAdmin(_ReadMostly):
    list_display = ("id", "request", "status", "submitted_by", "submitted_at", "decided_by")
    list_filter = ("status",)
    list_select_related = ("request__resident", "request__rule", "submitted_by", "decided_by")
    search_fields = ("request__resident__name", "text")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appeal]:
        return (
            super()
            .get_queryset(request)
            .filter(request__community__in=office_communities(user=request.user))
        )
