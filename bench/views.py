"""Reference views: the least work that answers what an endpoint answers.

A project endpoint is measured against the reference that does its data work with
nothing of the project's layers (DRF, serializers, model instances, scoping): the ratio
endpoint / reference is what those layers cost. To keep the comparison honest the
references run behind the same middleware stack, with the same session, and refuse an
anonymous caller the way DRF's IsAuthenticated does (403, JSON body); they are plain
Django views so nothing of DRF is counted in the reference.

- R0: no query beyond session and user: the floor of a logged-in request.
- R1: one primary-key query of a resident as JSON (reference of the detail API).
- R20: `.values()` of the 20 rows the resident list API's first page returns, with the
  address joins it makes and the tag codes it lists (reference of the list API).
"""

from __future__ import annotations

from collections import defaultdict

from django.http import HttpRequest, HttpResponse, JsonResponse

from community.models import Resident

_DENIED = {"detail": "Authentication credentials were not provided."}

#: The columns the resident APIs return, read straight from the tables.
_RESIDENT_COLUMNS = (
    "id",
    "name",
    "gender",
    "phone",
    "id_number_masked",
    "household_id",
    "relation_to_head",
    "status",
)
_ADDRESS_COLUMNS = (
    "household__room",
    "household__unit__number",
    "household__unit__building__number",
    "household__unit__building__estate__name",
)


def _anonymous(request: HttpRequest) -> bool:
    user = request.user
    return not (user.is_authenticated and user.is_active)


def r0_bare(request: HttpRequest) -> HttpResponse:
    """R0: a bare response for a logged-in caller."""
    if _anonymous(request):
        return JsonResponse(_DENIED, status=403)
    return HttpResponse(b"ok", content_type="text/plain")


def r1_one_row(request: HttpRequest, pk: int) -> HttpResponse:
    """R1: one resident by primary key, its own columns, as JSON."""
    if _anonymous(request):
        return JsonResponse(_DENIED, status=403)
    row = (
        Resident.objects.filter(pk=pk)
        .values(*_RESIDENT_COLUMNS, "birth_date", "moved_in_on", "moved_out_on")
        .first()
    )
    if row is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    return JsonResponse(row)


def r20_page(request: HttpRequest) -> HttpResponse:
    """R20: the first 20 residents of a community with address joins and tag codes."""
    if _anonymous(request):
        return JsonResponse(_DENIED, status=403)
    try:
        community_id = int(request.GET.get("community", ""))
        size = min(int(request.GET.get("page_size", "20")), 100)
    except ValueError:
        return JsonResponse({"detail": "community and page_size are numbers."}, status=400)
    rows = list(
        Resident.objects.filter(household__unit__building__estate__community_id=community_id)
        .order_by("id")
        .values(*_RESIDENT_COLUMNS, *_ADDRESS_COLUMNS)[:size]
    )
    tags: dict[int, list[str]] = defaultdict(list)
    through = Resident.tags.through.objects.filter(resident_id__in=[r["id"] for r in rows])
    for resident_id, code in through.order_by("residenttag_id").values_list(
        "resident_id", "residenttag__code"
    ):
        tags[resident_id].append(code)
    for row in rows:
        row["tags"] = tags[row["id"]]
    return JsonResponse({"results": rows})
