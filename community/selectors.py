"""Reads of the registry. Every one takes the acting user and returns only their scope."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from django.db import connections
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

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
from community.scoping import (
    can_edit_registry,
    scope_contains_row,
    scope_filter,
    scope_for,
    scope_row_fields,
)

_ID_LIKE = 18
MAX_PK = 2**63 - 1  # the largest value a (big)int primary key column holds
# Whole numbers only: a partial number would let a reader recover a masked phone digit by
# digit (1380, 13800, 138001 …). A mobile, a landline with area code, or the last 4.
_WHOLE_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}\d{7,8})$")
_PHONE_TAIL = 4


def _tags_prefetch() -> Prefetch:
    """Residents' tags as a plain list on `resident.tag_list`.

    `to_attr` skips building a related manager and queryset per resident, which is most
    of what a page of tags costs (make bench).
    """
    return Prefetch("tags", queryset=ResidentTag.objects.order_by("id"), to_attr="tag_list")


def resident_list(
    *,
    user: Any,
    search: str = "",
    estate_id: int | None = None,
    building_id: int | None = None,
    grid_id: int | None = None,
    tag: str = "",
    status: str = "",
    id_number_hash: str = "",
) -> QuerySet[Resident]:
    """Residents in the user's scope, newest last, with their address joined in.

    `id_number_hash` is the keyed hash of a whole ID number (`privacy.hash_id_number`):
    callers take the number in a POST body or turn it into the hash before it reaches a
    URL, so it never lands in an address bar or an access log.
    """
    qs = scope_filter(Resident.objects.all(), user)
    if id_number_hash:
        qs = qs.filter(id_number_hash=id_number_hash)
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
        .prefetch_related(_tags_prefetch())
        .defer("id_number_ciphertext")
        .order_by("id")
    )


def is_id_number_like(term: str) -> bool:
    """Whether a search term is (the shape of) a whole ID number."""
    normalized = normalize_id_number(term)
    return len(normalized) == _ID_LIKE and normalized[:17].isdigit()


def resident_search_q(term: str) -> Q:
    """Search by name, a whole phone number or its last 4 digits, or a whole ID number
    (matched through its keyed hash). Any other run of digits matches nothing."""
    term = term.strip()
    if is_id_number_like(term):
        return Q(id_number_hash=hash_id_number(normalize_id_number(term)))
    phone = normalize_phone(term)
    if phone.isdigit():
        if _WHOLE_PHONE.match(phone):
            return Q(phone=phone)
        if len(phone) == _PHONE_TAIL:
            return Q(phone__endswith=phone)
        return Q(pk__in=[])
    return Q(name__contains=term)


class _CommaJoined(Aggregate):
    """Values joined with commas: STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


#: What the resident detail shows, read straight from the row and its address chain.
RESIDENT_DETAIL_FIELDS = (
    "id",
    "name",
    "gender",
    "phone",
    "id_number_masked",
    "household_id",
    "relation_to_head",
    "status",
    "birth_date",
    "moved_in_on",
    "moved_out_on",
    "household__room",
    "household__unit__number",
    "household__unit__building__number",
    "household__unit__building__estate__name",
)


_PK_SENTINEL = -7_331_715  # stands for the primary key while the SQL is compiled


@lru_cache(maxsize=64)
def _resident_detail_sql(alias: str, scope_fields: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    """The detail query, compiled by the ORM once per process and set of scope fields.

    Compiling this five-table query cost the ORM twice what PostgreSQL needs to run it
    (make bench); the SQL still comes from the ORM, so it follows the models.
    """
    tag_codes = (
        Resident.tags.through.objects.filter(resident=OuterRef("pk"))  # type: ignore[misc]  # django-stubs misses the annotation
        .values("resident")
        .annotate(codes=_CommaJoined("residenttag__code"))
        .values("codes")
    )
    queryset = (
        Resident.objects.using(alias)
        .filter(pk=_PK_SENTINEL)
        .annotate(tag_codes=Coalesce(Subquery(tag_codes), Value("")))
        .values(*RESIDENT_DETAIL_FIELDS, *scope_fields, "tag_codes")
    )
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def resident_detail(*, user: Any, pk: int) -> dict[str, Any]:
    """One resident in scope as a row of RESIDENT_DETAIL_FIELDS plus `tag_codes`.

    Raises Resident.DoesNotExist when absent or out of scope (views answer 404). One
    query by primary key, judged by scoping.scope_contains_row: this is the hottest
    read there is, and joining the scope into the SQL, a second query for the tags and
    five model instances cost more than the lookup itself (make bench).
    """
    if not 0 < pk <= MAX_PK:  # the raw query would overflow the driver (a 500, not a 404)
        raise Resident.DoesNotExist
    sql, template = _resident_detail_sql(
        Resident.objects.db, tuple(scope_row_fields(Resident, user))
    )
    params = [pk if p == _PK_SENTINEL else p for p in template]
    with connections[Resident.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        values = cursor.fetchone()
        columns = [column[0] for column in cursor.description or ()]
    if values is None:
        raise Resident.DoesNotExist
    row = dict(zip(columns, values, strict=True))
    if not scope_contains_row(user, Resident, row):
        raise Resident.DoesNotExist
    return row


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
        .prefetch_related(_tags_prefetch())
        .defer("id_number_ciphertext")
        .order_by("id")
    )


def building_households(*, user: Any, building: Building) -> QuerySet[Household]:
    """A building's households with their current residents and tags (grid worker page)."""
    current = (
        Resident.objects.filter(status=Resident.Status.ACTIVE)
        .defer("id_number_ciphertext")
        .prefetch_related(_tags_prefetch())
        .order_by("id")
    )
    return household_list(user=user, building_id=building.pk).prefetch_related(
        Prefetch("residents", queryset=current, to_attr="current_residents")
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
