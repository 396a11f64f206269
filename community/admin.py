"""Django admin for the registry, in 简体中文, scoped like every other page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from community import selectors, services
from community.models import (
    Building,
    Community,
    Estate,
    Grid,
    Household,
    Membership,
    Organization,
    Resident,
    ResidentTag,
    ServiceContact,
    Street,
    Unit,
)
from community.privacy import hash_id_number, mask_phone, normalize_id_number
from community.scoping import can_edit_registry, can_view_registry, scope_filter

ID_LENGTH = 18
ID_HASH_PARAM = "idh"


class ScopedAdmin(SimpleHistoryAdmin):
    """Admin whose rows, permissions and foreign-key choices follow the scoping rules."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_filter(super().get_queryset(request), request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_edit_registry(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_registry(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Registry rows are history: people move out, they are not deleted.
        return bool(request.user.is_superuser)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        if related in (Street, Community, Estate, Grid, Building, Unit, Household):
            kwargs["queryset"] = scope_filter(related.objects.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SuperuserOnlyWriteAdmin(SimpleHistoryAdmin):
    """Reference data (streets, tags, organizations): registry staff read, superusers write."""

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


@admin.register(Street)
class StreetAdmin(ScopedAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Community)
class CommunityAdmin(ScopedAdmin):
    list_display = ("name", "code", "street")
    list_select_related = ("street",)
    search_fields = ("name", "code")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Estate)
class EstateAdmin(ScopedAdmin):
    list_display = ("name", "community", "property_company", "address")
    list_select_related = ("community", "property_company")
    search_fields = ("name", "address")


@admin.register(Grid)
class GridAdmin(ScopedAdmin):
    list_display = ("name", "community")
    list_select_related = ("community",)
    search_fields = ("name",)


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0


@admin.register(Building)
class BuildingAdmin(ScopedAdmin):
    list_display = ("number", "estate", "grid", "floors")
    list_select_related = ("estate", "grid")
    list_filter = ("estate", "grid")
    search_fields = ("number", "estate__name")
    inlines = [UnitInline]


@admin.register(Unit)
class UnitAdmin(ScopedAdmin):
    list_display = ("number", "building")
    list_select_related = ("building__estate",)
    search_fields = ("number", "building__number")


class ResidentInline(admin.TabularInline):
    """Household members, read-only here: each is edited on its own page (with history)."""

    model = Resident
    fields = ("name", "relation_to_head", "gender", "masked_phone", "id_number_masked", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Resident) -> str:
        return obj.phone_masked

    def get_queryset(self, request: HttpRequest) -> QuerySet[Resident]:
        qs = super().get_queryset(request).defer("id_number_ciphertext").order_by("id")
        return scope_filter(qs, request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ("__str__", "area_m2")
    list_select_related = ("unit__building__estate",)
    list_filter = ("unit__building__estate",)
    search_fields = ("room", "unit__building__number", "residents__name")
    autocomplete_fields = ("unit",)
    inlines = [ResidentInline]


@admin.register(ResidentTag)
class ResidentTagAdmin(SuperuserOnlyWriteAdmin):
    list_display = ("name", "code")


class ResidentAdminForm(forms.ModelForm):
    """Residents are written through community.services; the ID number is write-only."""

    id_number = forms.CharField(
        label=_("ID number"),
        required=False,
        max_length=18,
        help_text=_("Enter to set or replace; leave empty to keep the stored number."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_id_number(self) -> str:
        value = self.cleaned_data.get("id_number", "")
        if value:
            # The same checks the service makes, so a mistake is a form error, not a 500.
            try:
                fields = services.id_number_fields(value)
                services.check_id_number_free(fields, exclude_pk=self.instance.pk)
            except ValidationError as exc:
                raise ValidationError(exc.messages) from None
        return value

    def clean_phone(self) -> str:
        try:
            return services.clean_resident_phone(self.cleaned_data.get("phone", ""))
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None

    class Meta:
        model = Resident
        fields = (
            "household",
            "name",
            "gender",
            "birth_date",
            "phone",
            "relation_to_head",
            "tags",
            "moved_in_on",
            "moved_out_on",
            "status",
            "note",
        )


@admin.register(Resident)
class ResidentAdmin(ScopedAdmin):
    form = ResidentAdminForm
    list_display = (
        "name",
        "gender",
        "masked_phone",
        "id_number_masked",
        "household",
        "relation_to_head",
        "status",
    )
    list_select_related = ("household__unit__building__estate",)
    list_filter = (
        "status",
        "tags",
        ("household__unit__building__estate", admin.RelatedOnlyFieldListFilter),
        ("household__unit__building", admin.RelatedOnlyFieldListFilter),
        ("household__unit__building__grid", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("name",)
    search_help_text = _(
        "Search by name or phone. To find someone by ID number, use the ID number box."
    )
    change_list_template = "admin/community/resident/change_list.html"
    autocomplete_fields = ("household",)
    readonly_fields = ("id_number_masked",)
    filter_horizontal = ("tags",)
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("household", "name", "relation_to_head", "gender", "birth_date")}),
        (_("Contact and identity"), {"fields": ("phone", "id_number_masked", "id_number")}),
        (_("Residence"), {"fields": ("status", "moved_in_on", "moved_out_on", "tags", "note")}),
    )

    @admin.display(description=_("phone"), ordering="phone")
    def masked_phone(self, obj: Resident) -> str:
        return mask_phone(obj.phone)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Resident]:
        qs = super().get_queryset(request).defer("id_number_ciphertext")
        id_hash = getattr(request, "linli_id_hash", None)
        return qs.filter(id_number_hash=id_hash) if id_hash else qs

    def get_urls(self) -> list[Any]:
        find = path(
            "find-by-id/",
            self.admin_site.admin_view(self.find_by_id_view),
            name="community_resident_find_by_id",
        )
        return [find, *super().get_urls()]

    def _hashed_changelist(self, id_number: str) -> HttpResponseRedirect:
        # The URL (and so every access log) carries the keyed hash, never the number.
        digest = hash_id_number(normalize_id_number(id_number))
        url = reverse("admin:community_resident_changelist")
        return HttpResponseRedirect(f"{url}?{urlencode({ID_HASH_PARAM: digest})}")

    def find_by_id_view(self, request: HttpRequest) -> HttpResponse:
        """POST an ID number; answer with the changelist filtered by its hash."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:community_resident_changelist"))
        id_number = normalize_id_number(request.POST.get("id_number", ""))
        if len(id_number) != ID_LENGTH:
            messages.error(request, _("Enter the whole 18-character ID number."))
            return HttpResponseRedirect(reverse("admin:community_resident_changelist"))
        return self._hashed_changelist(id_number)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        term = normalize_id_number(request.GET.get("q", ""))
        if len(term) == ID_LENGTH and term[:17].isdigit():
            # Someone typed an ID number into the ordinary search box: don't leave it in
            # the address bar and history; continue with its hash instead.
            return self._hashed_changelist(term)
        if ID_HASH_PARAM in request.GET:
            request.linli_id_hash = request.GET[ID_HASH_PARAM]  # type: ignore[attr-defined]
            params = request.GET.copy()
            del params[ID_HASH_PARAM]
            request.GET = params  # type: ignore[assignment]
        return super().changelist_view(request, extra_context)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Resident], search_term: str
    ) -> tuple[QuerySet[Resident], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(selectors.resident_search_q(search_term)), False

    def save_model(self, request: HttpRequest, obj: Resident, form: Any, change: bool) -> None:
        data = dict(form.cleaned_data)
        data.pop("tags", None)  # saved by save_related once the row exists
        id_number = data.pop("id_number", "") or None
        household = data.pop("household")
        name = data.pop("name")
        phone = data.pop("phone", "")
        saved = services.resident_save(
            resident=obj if change else None,
            actor=request.user,
            household=household,
            name=name,
            phone=phone,
            id_number=id_number,
            **data,
        )
        obj.pk = saved.pk

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        # The service validates and saves; don't let the ModelForm save a half object.
        return form.save(commit=False)


@admin.register(Organization)
class OrganizationAdmin(SuperuserOnlyWriteAdmin):
    list_display = ("name", "kind", "street", "community", "phone")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = (
        "user",
        "role",
        "organization",
        "street",
        "community",
        "estate",
        "grid",
        "is_active",
    )
    list_select_related = ("user", "organization", "street", "community", "estate", "grid")
    list_filter = ("role", "is_active")
    search_fields = ("user__name", "user__phone")
    autocomplete_fields = ("user",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(ServiceContact)
class ServiceContactAdmin(SimpleHistoryAdmin):
    list_display = ("name", "category", "phone", "hours", "community", "street")
    list_filter = ("category",)
    search_fields = ("name", "phone")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceContact]:
        return selectors.service_contact_list(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_edit_registry(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_registry(request.user)
