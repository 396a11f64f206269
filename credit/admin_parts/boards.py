"""Admin of the red/grey lists, opt-outs and garbage weighings (imported by credit/admin.py).

Boards and weighings are read-only here: a board is published by
credit.services.boards.board_publish and never edited; a weighing moves points, so it
is recorded only through credit.services.garbage.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from community.models import Community, Resident
from community.scoping import can_edit_registry, can_view_registry, scope_filter
from credit.models import BoardSnapshot, GarbageWeighing, GarbageWeighingLine, RedListOptOut


def _community_ids(request: HttpRequest) -> QuerySet[Community]:
    return scope_filter(Community.objects.all(), request.user)


class ReadOnlyScoped(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BoardSnapshot)
class BoardSnapshotAdmin(ReadOnlyScoped):
    list_display = ("area_name", "community", "period", "period_start", "published_at")
    list_filter = ("period", "area_kind")
    list_select_related = ("community", "published_by")
    date_hierarchy = "period_start"

    def get_queryset(self, request: HttpRequest) -> QuerySet[BoardSnapshot]:
        return super().get_queryset(request).filter(community__in=_community_ids(request))


class GarbageWeighingLineInline(admin.TabularInline):
    model = GarbageWeighingLine
    fields = ("rule", "kg", "entry")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(GarbageWeighing)
class GarbageWeighingAdmin(ReadOnlyScoped):
    list_display = ("weighed_at", "resident", "community", "weighed_by")
    list_select_related = ("resident", "community", "weighed_by")
    date_hierarchy = "weighed_at"
    search_fields = ("resident__name",)
    inlines = [GarbageWeighingLineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[GarbageWeighing]:
        return super().get_queryset(request).filter(community__in=_community_ids(request))


@admin.register(RedListOptOut)
class RedListOptOutAdmin(admin.ModelAdmin):
    """Staff record a resident's choice when they ask at the office (no login needed)."""

    list_display = ("resident", "created_at")
    list_select_related = ("resident",)
    search_fields = ("resident__name",)
    autocomplete_fields = ("resident",)
    readonly_fields = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RedListOptOut]:
        residents = scope_filter(Resident.objects.all(), request.user)
        return super().get_queryset(request).filter(resident__in=residents)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "resident":
            kwargs["queryset"] = scope_filter(Resident.objects.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_edit_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_registry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_edit_registry(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_registry(request.user)
