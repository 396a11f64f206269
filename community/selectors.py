"""Reads of the registry. Every one takes the acting user and returns only their scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.phone import normalize_phone
from community import registry_import
from community.models import (
    Building,
    Community,
    Estate,
    Grid,
    Household,
    ImportJob,
    Resident,
    ResidentTag,
    ServiceContact,
)
from community.privacy import hash_id_number, normalize_id_number
from community.scoping import can_edit_registry, scope_filter, scope_for

_ID_LIKE = 18


def resident_list(
    *,
    user: Any,
    search: str = "",
    estate_id: int | None = None,
    building_id: int | None = None,
    grid_id: int | None = None,
    tag: str = "",
    status: str = "",
) -> QuerySet[Resident]:
    """Residents in the user's scope, newest last, with their address joined in."""
    qs = scope_filter(Resident.objects.all(), user)
    if search:
        qs = qs.filter(resident_search_q(search))
    if estate_id:
        qs = qs.filter(household__unit__building__estate_id=estate_id)
    if building_id:
        qs = qs.filter(household__unit__building_id=building_id)
    if grid_id:
        qs = qs.filter(household__unit__building__grid_id=grid_id)
    if tag:
        qs = qs.filter(tags__code=tag)
    if status:
        qs = qs.filter(status=status)
    return (
        qs.select_related("household__unit__building__estate")
        .prefetch_related(Prefetch("tags", queryset=ResidentTag.objects.order_by("id")))
        .defer("id_number_ciphertext")
        .order_by("id")
    )


def resident_search_q(term: str) -> Q:
    """Search by name, phone, or a whole ID number (matched through its keyed hash)."""
    term = term.strip()
    normalized_id = normalize_id_number(term)
    if len(normalized_id) == _ID_LIKE and normalized_id[:17].isdigit():
        return Q(id_number_hash=hash_id_number(normalized_id))
    phone = normalize_phone(term)
    if phone.isdigit() and len(phone) >= 4:
        return Q(phone__contains=phone)
    return Q(name__contains=term)


def resident_get(*, user: Any, pk: int) -> Resident:
    """One resident in scope; raises Resident.DoesNotExist otherwise (views answer 404)."""
    # Only what the detail shows is joined: the address (estate, building, unit, room).
    # Joining community and login account too cost ~0.5 ms a request (planning and model
    # instances) for columns nobody read (make bench).
    return (
        scope_filter(Resident.objects.all(), user)
        .select_related("household__unit__building__estate")
        .prefetch_related("tags")
        .defer("id_number_ciphertext")
        .get(pk=pk)
    )


def household_list(*, user: Any, building_id: int | None = None) -> QuerySet[Household]:
    """Households in scope with their address and head count."""
    qs = scope_filter(Household.objects.all(), user)
    if building_id:
        qs = qs.filter(unit__building_id=building_id)
    return (
        qs.select_related("unit__building__estate")
        .annotate(
            resident_count=Count("residents", filter=Q(residents__status=Resident.Status.ACTIVE))
        )
        .order_by("id")
    )


def household_get(*, user: Any, pk: int) -> Household:
    return household_list(user=user).get(pk=pk)


def household_members(*, user: Any, household: Household) -> QuerySet[Resident]:
    return (
        scope_filter(Resident.objects.filter(household=household), user)
        .prefetch_related("tags")
        .defer("id_number_ciphertext")
        .order_by("id")
    )


def building_list(*, user: Any, estate_id: int | None = None) -> QuerySet[Building]:
    """Buildings in scope, with estate and grid."""
    qs = scope_filter(Building.objects.all(), user)
    if estate_id:
        qs = qs.filter(estate_id=estate_id)
    return (
        qs.select_related("estate", "grid")
        .annotate(household_count=Count("units__households"))
        .order_by("estate_id", "id")
    )


def grid_list(*, user: Any) -> QuerySet[Grid]:
    """Grids in scope, with their building counts."""
    return (
        scope_filter(Grid.objects.all(), user)
        .select_related("community")
        .annotate(building_count=Count("buildings"))
        .order_by("id")
    )


def estate_list(*, user: Any) -> QuerySet[Estate]:
    return scope_filter(Estate.objects.all(), user).select_related("community").order_by("id")


def service_contact_list(*, user: Any) -> QuerySet[ServiceContact]:
    """The service directory for the user's communities (and their streets), for everyone."""
    scope = scope_for(user)
    qs = ServiceContact.objects.all()
    if not scope.everything:
        communities = scope_filter(Community.objects.all(), user)
        qs = qs.filter(
            Q(community__in=communities)
            | Q(community__isnull=True, street__communities__in=communities)
        ).distinct()
    return qs.select_related("community").order_by("category", "name")


def resident_export_list(*, user: Any, **filters: Any) -> QuerySet[Resident]:
    """`resident_list` with everything an export row shows joined in (grid, community)."""
    return resident_list(user=user, **filters).select_related(
        "household__unit__building__grid", "household__unit__building__estate__community"
    )


def resident_tag_list() -> QuerySet[ResidentTag]:
    """The tags the office keeps on residents (reference data, the same for everyone)."""
    return ResidentTag.objects.order_by("id")


def import_job_list(*, user: Any) -> QuerySet[ImportJob]:
    """Registry imports the user may see: their own, and their communities' (newest first)."""
    if not can_edit_registry(user):
        return ImportJob.objects.none()
    scope = scope_for(user)
    qs = ImportJob.objects.all()
    if not scope.everything:
        qs = qs.filter(Q(uploaded_by=user) | Q(community_id__in=sorted(scope.community_ids)))
    return qs.select_related("uploaded_by", "confirmed_by").order_by("-created_at", "-id")


def import_job_get(*, user: Any, pk: int) -> ImportJob:
    """One import in the user's sight; raises ImportJob.DoesNotExist otherwise (404)."""
    return import_job_list(user=user).get(pk=pk)


def import_job_progress(*, job: ImportJob) -> dict[str, Any]:
    """Rows done of rows to do while a job runs (from the cache; see registry_import)."""
    progress = registry_import.progress_get(job.pk) or {}
    done = int(progress.get("done") or 0)
    total = progress.get("total")
    if not total and job.total_rows:
        total = job.total_rows
    percent = min(100, done * 100 // total) if total else 0
    return {"phase": progress.get("phase", ""), "done": done, "total": total, "percent": percent}
