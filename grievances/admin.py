"""Django admin of grievances, in 简体中文, scoped like every other page.

Categories are reference data shared by every community: staff read them, superusers
change them. Grievances, dispatches and cost shares are read here, in the reader's
grievance scope: every change goes through the services on the workbench (accept,
dispatch, resolve …), so the status map, the timeline and the clocks stay true; the
admin never edits a status. Open311 client keys are issued here and shown once.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from community.admin import ScopedHistoryAdmin, SuperuserOnlyWriteAdmin
from community.models import Community
from grievances.models import (
    Attachment,
    Category,
    CostShare,
    CostShareLine,
    Dispatch,
    Grievance,
    Open311Client,
    Rating,
    TimelineEvent,
)
from grievances.selectors.access import grievance_scope, grievances_visible, is_office
from grievances.services.open311_clients import (
    open311_client_key_rotate,
    open311_client_key_set,
)


def _reads_grievances(user: Any) -> bool:
    """The office, street supervisors and superusers read grievances in the admin."""
    scope = grievance_scope(user)
    return scope.everything or bool(scope.community_ids or scope.street_ids)


def _office_communities(user: Any) -> QuerySet[Community]:
    scope = grievance_scope(user)
    if scope.everything:
        return Community.objects.all()
    return Community.objects.filter(id__in=sorted(scope.community_ids))


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _reads_grievances(request.user)


class _ReadOnlyScoped(ScopedHistoryAdmin):
    """Rows written by the services only: read here, in the reader's grievance scope."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _reads_grievances(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _reads_grievances(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- categories --------------------------------------------------------------------------


class ChildCategoryInline(admin.TabularInline):
    model = Category
    fk_name = "parent"
    fields = ("code", "name", "default_handler", "default_tier", "is_private", "is_active")
    extra = 0
    show_change_link = True

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _reads_grievances(request.user) or bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retire a category (inactive); grievances keep pointing at it


class TopLevelFilter(admin.SimpleListFilter):
    title = _("level")
    parameter_name = "level"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("top", _("top level")), ("sub", _("subcategories"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "top":
            return queryset.filter(parent__isnull=True)
        if self.value() == "sub":
            return queryset.filter(parent__isnull=False)
        return queryset


@admin.register(Category)
class CategoryAdmin(SuperuserOnlyWriteAdmin):
    list_display = (
        "tree_name",
        "code",
        "default_handler",
        "sla_policy",
        "default_tier",
        "in_contract_scope",
        "is_private",
        "is_active",
        "sort_order",
    )
    list_select_related = ("parent", "sla_policy")
    list_filter = (TopLevelFilter, "default_handler", "is_private", "is_active")
    search_fields = ("name", "code")
    # Parents before their children: the seed numbers them 10, 11, 12 … 20, 21 …
    ordering = ("sort_order", "code")
    inlines = [ChildCategoryInline]
    fieldsets = (
        (None, {"fields": ("parent", "code", "name", "description", "sort_order", "is_active")}),
        (
            _("Handling"),
            {
                "fields": (
                    "default_handler",
                    "default_organization",
                    "sla_policy",
                    "default_tier",
                    "in_contract_scope",
                    "is_private",
                )
            },
        ),
        (
            _("Extra questions (Open311 attributes)"),
            {
                "fields": ("attributes",),
                "description": _(
                    'A JSON list, e.g. [{"code": "where", "datatype": "singlevaluelist", '
                    '"required": true, "description": "漏水位置", "values": '
                    '[{"key": "ceiling", "name": "天花板"}]}]'
                ),
            },
        ),
    )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _reads_grievances(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _reads_grievances(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("category"), ordering="sort_order")
    def tree_name(self, obj: Category) -> str:
        return f"　└ {obj.name}" if obj.parent_id else obj.name


# --- grievances -----------------------------------------------------------------------------


class TimelineInline(_ReadOnlyInline):
    model = TimelineEvent
    fields = ("at", "kind", "actor", "on_behalf_of", "old_value", "new_value", "note", "is_public")
    readonly_fields = fields
    ordering = ("at", "id")


class DispatchInline(_ReadOnlyInline):
    model = Dispatch
    fields = (
        "organization",
        "assignee",
        "status",
        "note",
        "reason",
        "dispatched_by",
        "created_at",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields
    ordering = ("created_at", "id")


class AttachmentInline(_ReadOnlyInline):
    model = Attachment
    fields = ("kind", "content_type", "width", "height", "size", "uploaded_by", "created_at")
    readonly_fields = fields
    ordering = ("id",)


class RatingInline(_ReadOnlyInline):
    model = Rating
    fields = ("round", "solved", "stars", "comment", "rated_by", "automatic", "created_at")
    readonly_fields = fields
    ordering = ("round",)


@admin.register(Grievance)
class GrievanceAdmin(_ReadOnlyScoped):
    list_display = (
        "id",
        "title",
        "category",
        "community",
        "status",
        "channel",
        "tier",
        "handler_organization",
        "submitted_at",
    )
    list_display_links = ("id", "title")
    list_select_related = ("category__parent", "community", "handler_organization")
    list_filter = ("status", "channel", "tier", "is_public", "is_anonymous")
    search_fields = ("=id", "title")
    date_hierarchy = "submitted_at"
    ordering = ("-submitted_at", "-id")
    inlines = [DispatchInline, TimelineInline, AttachmentInline, RatingInline]
    # Personal data stays out of the list; the detail shows what the office needs.
    exclude = ("caller_phone",)
    readonly_fields = ("caller_phone_masked",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Grievance]:
        return grievances_visible(user=request.user)

    @admin.display(description=_("caller's phone"))
    def caller_phone_masked(self, obj: Grievance) -> str:
        from accounts.phone import mask_phone

        return mask_phone(obj.caller_phone)


@admin.register(Dispatch)
class DispatchAdmin(_ReadOnlyScoped):
    list_display = ("grievance", "organization", "assignee", "status", "created_at", "decided_at")
    list_select_related = ("grievance", "organization", "assignee")
    list_filter = ("status",)
    search_fields = ("=grievance__id", "grievance__title")
    ordering = ("-created_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Dispatch]:
        return Dispatch.objects.filter(grievance__in=grievances_visible(user=request.user))

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        return HttpResponseRedirect("../")  # dispatches keep no history of their own


class CostShareLineInline(_ReadOnlyInline):
    model = CostShareLine
    fields = ("household", "amount", "paid_at", "recorded_by")
    readonly_fields = fields
    ordering = ("household_id",)


@admin.register(CostShare)
class CostShareAdmin(_ReadOnlyScoped):
    list_display = ("grievance", "description", "total", "created_at", "settled_at")
    list_select_related = ("grievance",)
    search_fields = ("=grievance__id", "description")
    ordering = ("-created_at", "-id")
    inlines = [CostShareLineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CostShare]:
        return CostShare.objects.filter(grievance__in=grievances_visible(user=request.user))


# --- Open311 clients ---------------------------------------------------------------------------


@admin.register(Open311Client)
class Open311ClientAdmin(ScopedHistoryAdmin):
    """Client applications and their keys: the office of the community issues them."""

    list_display = ("name", "community", "key_prefix", "is_active", "created_at", "last_used_at")
    list_select_related = ("community",)
    list_filter = ("is_active",)
    search_fields = ("name", "key_prefix")
    fields = ("name", "community", "is_active", "key_prefix", "created_at", "last_used_at")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    actions = ["issue_new_key"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Open311Client]:
        return super().get_queryset(request).filter(community__in=_office_communities(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _office_communities(request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _office_communities(request.user).exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: grievances name their client in source_ref

    def _may(self, request: HttpRequest, obj: Open311Client | None) -> bool:
        if obj is None:
            return _office_communities(request.user).exists()
        return is_office(request.user, obj.community_id)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return (*self.readonly_fields, "community")
        return self.readonly_fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "community":
            kwargs["queryset"] = _office_communities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Open311Client, form: Any, change: bool) -> None:
        key = None if change else open311_client_key_set(client=obj)
        obj._history_user = request.user  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)
        if key:
            self._show_key(request, obj, key)

    @admin.action(description=_("Issue a new key (the old one stops working)"))
    def issue_new_key(self, request: HttpRequest, queryset: QuerySet[Open311Client]) -> None:
        for client in queryset.order_by("pk"):
            if is_office(request.user, client.community_id):
                key = open311_client_key_rotate(client=client, actor=request.user)
                self._show_key(request, client, key)

    def _show_key(self, request: HttpRequest, client: Open311Client, key: str) -> None:
        messages.warning(
            request,
            _(
                "The key of %(client)s is %(key)s. Copy it now: it is shown only this once "
                "and cannot be read back."
            )
            % {"client": client.name, "key": key},
        )


# The SLA engine's own admin (policies, calendar, clocks, events).
from grievances.sla import admin as _sla_admin  # noqa: E402, F401
