"""Django admin for the registry, in 简体中文, scoped like every other page."""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

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
from community.scoping import (
    can_edit_object,
    can_edit_registry,
    can_view_registry,
    scope_filter,
)

ID_LENGTH = 18
ID_HASH_PARAM = "idh"
_MAX_ID = 2**63 - 1  # the largest primary key a database column holds


class ScopedHistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's views held to the admin's own rules.

    Its history list falls back to the latest historical row of an object the user may
    not see, and its history form fetches any historical row by id and saves it back on
    POST ("revert") after checking view permission only. Here both views answer as
    `change_view` does for an object outside `get_queryset` (the admin's redirect), and
    the form is read-only: changes go through the change form (and its service).
    """

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if self.get_object(request, unquote(object_id)) is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        if not (version_id.isdigit() and 0 < int(version_id) <= _MAX_ID):
            raise Http404
        if self.get_object(request, unquote(object_id)) is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class ScopedAdmin(ScopedHistoryAdmin):
    """Admin whose rows, permissions and foreign-key choices follow the scoping rules.

    Seeing and changing are scoped apart: a row is changed only inside the user's edit
    scope (their communities as staff), however much more they may see.
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_filter(super().get_queryset(request), request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_edit_registry(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return can_edit_registry(request.user)
        return can_edit_object(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Registry rows are history: people move out, they are not deleted.
        return bool(request.user.is_superuser)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        if related in (Street, Community, Estate, Grid, Building, Unit, Household):
            # A form saves: editors choose among what they may change, not all they see.
            edit = can_edit_registry(request.user)
            kwargs["queryset"] = scope_filter(related.objects.all(), request.user, edit=edit)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = getattr(request, "resolver_match", None)
        if (
            match is not None
            and match.url_name == "autocomplete"
            and can_edit_registry(request.user)
        ):
            # Autocomplete offers values for a form about to be saved: only changeable ones.
            queryset = scope_filter(queryset, request.user, edit=True)
        return queryset, may_have_duplicates


class SuperuserOnlyWriteAdmin(ScopedHistoryAdmin):
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

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A street spans communities: no one community's office changes it.
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
    # Related-only: the filter offers the estates and grids of visible rows, not every one.
    list_filter = (
        ("estate", admin.RelatedOnlyFieldListFilter),
        ("grid", admin.RelatedOnlyFieldListFilter),
    )
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
    list_filter = (("unit__building__estate", admin.RelatedOnlyFieldListFilter),)
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


class _ResidentHistoryHelper(HistoricalRecordContextHelper):
    """History deltas without the stored forms of the ID number (and, for readers, the
    birth date: with the masked ID shown elsewhere it rebuilds the whole number)."""

    def __init__(self, *args: Any, hidden: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hidden = hidden

    def context_for_delta_changes(self, delta: Any) -> list[dict[str, Any]]:
        kept = [c for c in delta.changes if c.field not in self.hidden]
        changed = [f for f in delta.changed_fields if f not in self.hidden]
        return super().context_for_delta_changes(
            dataclasses.replace(delta, changes=kept, changed_fields=changed)
        )


_ID_STORAGE_FIELDS = frozenset({"id_number_ciphertext", "id_number_hash"})


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

    @admin.display(description=_("birth year"))
    def birth_year(self, obj: Resident) -> str:
        return str(obj.birth_date.year) if obj.birth_date else ""

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # The 8 hidden digits of a masked ID number are the birth date: those who only
        # read the record see the year of birth next to it (PIPL art. 51).
        return [
            (
                name,
                {
                    **options,
                    "fields": tuple(
                        "birth_year" if f == "birth_date" else f for f in options["fields"]
                    ),
                },
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (*super().get_readonly_fields(request, obj), "birth_year")

    def get_historical_record_context_helper(
        self, request: HttpRequest, historical_record: Any
    ) -> HistoricalRecordContextHelper:
        hidden = _ID_STORAGE_FIELDS
        if not self.has_change_permission(request, historical_record.instance):
            hidden = hidden | {"birth_date"}
        return _ResidentHistoryHelper(self.model, historical_record, hidden=hidden)

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

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        # The service call is the transaction (durable, the row locked first, so an edit
        # and a concurrent import queue instead of overwriting each other); the admin's
        # own atomic wrapper would nest it.
        return self._changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Resident, form: Any, change: bool) -> None:
        data = dict(form.cleaned_data)
        id_number = data.pop("id_number", "") or None
        if change:
            saved = services.resident_update(
                resident=obj, actor=request.user, id_number=id_number, **data
            )
        else:
            saved = services.resident_create(actor=request.user, id_number=id_number, **data)
        obj.pk = saved.pk

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        # The service validates and saves; don't let the ModelForm save a half object.
        return form.save(commit=False)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Tags were saved by the service, in its transaction; there are no inlines.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Organization)
class OrganizationAdmin(SuperuserOnlyWriteAdmin):
    list_display = ("name", "kind", "street", "community", "phone")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Membership)
class MembershipAdmin(ScopedHistoryAdmin):
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


class ServiceContactAdminForm(forms.ModelForm):
    """A contact belongs to a community of its street; street-wide ones are superusers'."""

    acting_user: Any = None  # set per request by ServiceContactAdmin.get_form

    class Meta:
        model = ServiceContact
        fields = ("community", "street", "category", "name", "phone", "hours", "note")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        community, street = data.get("community"), data.get("street")
        if community is None and not getattr(self.acting_user, "is_superuser", False):
            raise ValidationError(
                {"community": _("Only a superuser may add a contact for the whole street.")}
            )
        if community is not None and street is not None and community.street_id != street.pk:
            raise ValidationError({"street": _("This community is not in that street.")})
        return data


@admin.register(ServiceContact)
class ServiceContactAdmin(ScopedHistoryAdmin):
    form = ServiceContactAdminForm
    list_display = ("name", "category", "phone", "hours", "community", "street")
    list_filter = ("category",)
    search_fields = ("name", "phone")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"acting_user": request.user})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model in (Street, Community):
            # Choices among what the user may change: their communities and those streets.
            kwargs["queryset"] = scope_filter(
                db_field.related_model.objects.all(), request.user, edit=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceContact]:
        return selectors.service_contact_list(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_registry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_registry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_edit_registry(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return can_edit_registry(request.user)
        return can_edit_object(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return bool(request.user.is_superuser)
        return can_edit_object(request.user, obj)
