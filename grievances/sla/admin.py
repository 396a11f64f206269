"""Admin of the SLA engine: policies (with their clocks), the holiday calendar, and read-only
views of the clocks and their events.

Policies are shared by every community: a change moves the promise everywhere (for clocks
started afterwards; running clocks keep their snapshot), so only a superuser edits them;
office and street staff may read them. The calendar overrides are what DESIGN §5 asks
staff to keep: the community office enters a local holiday or a year the package does
not know yet. Clocks and events are written only by the engine; here they are read, in
the reader's grievance scope.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from community.scoping import can_edit_registry, can_view_registry
from grievances.models import CalendarDay, SlaClock, SlaClockSpec, SlaEvent, SlaPolicy
from grievances.selectors.access import grievances_visible


class SlaClockSpecInline(admin.TabularInline):
    model = SlaClockSpec
    extra = 0
    fields = (
        "kind",
        "tier",
        "calendar",
        "target_minutes",
        "target_days",
        "warn_percent",
        "start_on",
        "stop_on",
        "pauses_while_waiting",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(SimpleHistoryAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")
    inlines = [SlaClockSpecInline]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(CalendarDay)
class CalendarDayAdmin(SimpleHistoryAdmin):
    list_display = ("date", "is_workday", "name")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    search_fields = ("name",)
    ordering = ("-date",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_edit_registry(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_registry(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_registry(request.user)


class ReadOnlyInScope(admin.ModelAdmin):
    """Rows the engine writes: nobody adds, changes or deletes them by hand."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BreachedFilter(admin.SimpleListFilter):
    title = _("breached")
    parameter_name = "breached"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(breached_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(breached_at__isnull=True)
        return queryset


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyInScope):
    list_display = (
        "grievance",
        "kind",
        "state",
        "started_at",
        "due_at",
        "breached_at",
        "met_at",
        "escalation_level",
    )
    list_filter = ("state", "kind", BreachedFilter, "escalation_level")
    list_select_related = ("grievance",)
    search_fields = ("=grievance__id", "grievance__title")
    date_hierarchy = "started_at"
    ordering = ("-started_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SlaClock]:
        return (
            super()
            .get_queryset(request)
            .filter(grievance__in=grievances_visible(user=request.user))
        )


@admin.register(SlaEvent)
class SlaEventAdmin(ReadOnlyInScope):
    list_display = ("clock", "kind", "level", "due_at", "recorded_at")
    list_filter = ("kind", "level")
    list_select_related = ("clock__grievance",)
    date_hierarchy = "recorded_at"
    ordering = ("-recorded_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SlaEvent]:
        return (
            super()
            .get_queryset(request)
            .filter(clock__grievance__in=grievances_visible(user=request.user))
        )
