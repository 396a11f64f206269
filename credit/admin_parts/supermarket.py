"""Admin of the credit supermarket (信用超市): items and exchange windows; redemptions read-only.

Rows are scoped to the user's communities (as credit/admin.py does). Redemptions move
only through credit.services.supermarket (redeem, hand over, cancel, expire), so the
ledger entry, the stock and the status change together; here they are read.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from community.models import Community, Organization
from community.scoping import can_edit_registry, can_view_registry, scope_filter
from credit.models import ExchangeWindow, Redemption, SupermarketItem


def _communities(request: HttpRequest, *, edit: bool = False) -> QuerySet[Community]:
    return scope_filter(Community.objects.all(), request.user, edit=edit)


class CommunityScopedAdmin(SimpleHistoryAdmin):
    """Seen by registry viewers of the community, changed by its office staff."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request).select_related("community")
        if request.user.is_superuser:
            return qs
        return qs.filter(community__in=_communities(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_edit_registry(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None or request.user.is_superuser:
            return can_edit_registry(request.user)
        return _communities(request, edit=True).filter(pk=obj.community_id).exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Items and windows are referenced by redemptions: switch them off instead.
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Community:
            kwargs["queryset"] = _communities(request, edit=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(SupermarketItem)
class SupermarketItemAdmin(CommunityScopedAdmin):
    list_display = (
        "name",
        "kind",
        "points_price",
        "stock",
        "limit_per_resident",
        "limit_period",
        "provider",
        "is_active",
        "community",
    )
    list_filter = ("kind", "is_active")
    list_select_related = ("community", "provider")
    search_fields = ("name",)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "provider":
            kwargs["queryset"] = Organization.objects.exclude(
                kind=Organization.Kind.PROPERTY_COMPANY
            ).order_by("kind", "name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Write only what the form changed: a redemption may have taken stock since the
        # form was drawn, and saving the stale stock over it would undo that.
        if change:
            fields = [f for f in form.changed_data if f in {f.name for f in obj._meta.fields}]
            if fields:
                obj.save(update_fields=fields)
            return
        super().save_model(request, obj, form, change)


@admin.register(ExchangeWindow)
class ExchangeWindowAdmin(CommunityScopedAdmin):
    list_display = (
        "name",
        "community",
        "always_open",
        "day_of_month",
        "opens_at",
        "closes_at",
        "valid_from",
        "valid_to",
    )
    list_select_related = ("community",)


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    list_display = (
        "reserved_at",
        "item",
        "quantity",
        "points",
        "resident",
        "status",
        "pickup_code",
        "expires_at",
        "fulfilled_at",
        "fulfilled_by",
    )
    list_filter = ("status",)
    list_select_related = ("item", "resident", "fulfilled_by")
    search_fields = ("pickup_code", "resident__name", "item__name")
    date_hierarchy = "reserved_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Redemption]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(community__in=_communities(request))

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
