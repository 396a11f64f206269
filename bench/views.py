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
- R20_history: `.values()` of an account's 20 newest entries with the joins the history
  API shows (rule, redeemed item, what a reversal undid, the request's reason).
- R_redeem: the SQL of a redemption in one transaction, by hand: lock the item, lock and
  read the account, insert the entry, debit the balance, insert the redemption.
- R20_grievances: `.values()` of a community's 21 newest grievances with the joins the
  grievance list API shows and each one's next due time (reference of the board list).
- R_file: the inserts of filing a hotline call (grievance, its history row, the timeline
  line) in one transaction (reference of POST /api/v1/grievances/).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from community.models import Building, Resident
from credit.models import PointsAccount, PointsEntry, Redemption, SupermarketItem
from grievances.models import Category, Grievance, SlaClock, TimelineEvent

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


#: The entry columns and joins the history API shows for each row.
_HISTORY_COLUMNS = (
    "id",
    "created_at",
    "kind",
    "amount",
    "credit_account_id",
    "note",
    "quantity",
    "rule_id",
    "rule__name",
    "rule__code",
    "redemption__id",
    "redemption__item__name",
    "reverses_id",
    "reverses__rule__name",
    "reverses__redemption__item__name",
    "reversal__id",
    "request__id",
    "request__reason",
)


def r20_history(request: HttpRequest) -> HttpResponse:
    """R20_history: an account's 20 newest entries, signed, with what they link to."""
    if _anonymous(request):
        return JsonResponse(_DENIED, status=403)
    try:
        account_id = int(request.GET.get("account", ""))
    except ValueError:
        return JsonResponse({"detail": "account is a number."}, status=400)
    # 21 rows, as the cursor paginator reads one more to know whether a next page exists.
    rows = list(
        PointsEntry.objects.filter(Q(credit_account_id=account_id) | Q(debit_account_id=account_id))
        .order_by("-id")
        .values(*_HISTORY_COLUMNS)[:21]
    )
    for row in rows:
        row["delta"] = row["amount"] if row["credit_account_id"] == account_id else -row["amount"]
    return JsonResponse({"results": rows[:20], "more": len(rows) > 20})


_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


@require_POST
def r_redeem(request: HttpRequest) -> HttpResponse:
    """R_redeem: one redemption's SQL in one transaction; no checks beyond what it needs."""
    if _anonymous(request):
        return JsonResponse(_DENIED, status=403)
    key = request.headers.get("Idempotency-Key", "")
    try:
        item_id = int(json.loads(request.body)["item"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": "item is a number."}, status=400)
    now = timezone.now()
    user_id = request.user.pk or 0  # a logged-in user (checked above)
    with transaction.atomic():
        # The locks the service takes, in its order: the item row, then the account row.
        item = (
            SupermarketItem.objects.select_for_update()
            .values("id", "name", "points_price", "community_id")
            .get(pk=item_id)
        )
        account = (
            PointsAccount.objects.select_for_update(of=("self",))
            .filter(resident__user_id=user_id)
            .values("id", "balance", "resident_id")
            .get()
        )
        price = item["points_price"]
        if account["balance"] < price:
            return JsonResponse({"detail": "Not enough points."}, status=400)
        market_id = (
            PointsAccount.objects.filter(
                community_id=item["community_id"], kind=PointsAccount.Kind.SUPERMARKET
            )
            .values_list("id", flat=True)
            .get()
        )
        scoped_key = f"{account['resident_id']}:{key}"
        entry = PointsEntry.objects.create(
            kind=PointsEntry.Kind.REDEMPTION,
            debit_account_id=account["id"],
            credit_account_id=market_id,
            amount=price,
            community_id=item["community_id"],
            idempotency_key=f"redemption:{scoped_key}",
            source_type=ContentType.objects.get_for_model(SupermarketItem),
            source_id=str(item["id"]),
            actor_id=user_id,
            note=item["name"][:200],
            created_at=now,
        )
        PointsAccount.objects.filter(pk=account["id"]).update(balance=F("balance") - price)
        redemption = Redemption.objects.create(
            community_id=item["community_id"],
            resident_id=account["resident_id"],
            item_id=item["id"],
            points=price,
            pickup_code="".join(secrets.choice(_CODE_ALPHABET) for _i in range(8)),
            idempotency_key=scoped_key,
            entry=entry,
            reserved_at=now,
            expires_at=now + dt.timedelta(days=7),
            created_by_id=user_id,
        )
    return JsonResponse(
        {
            "id": redemption.pk,
            "item": item["id"],
            "item_name": item["name"],
            "points": price,
            "pickup_code": redemption.pickup_code,
            "reserved_at": now,
            "expires_at": redemption.expires_at,
        },
        status=201,
    )


# --- grievances (issue 4) ------------------------------------------------------------------

#: The columns and joins of a row of the grievance list API (GrievanceRowOutput).
_GRIEVANCE_COLUMNS = (
    "id",
    "title",
    "status",
    "tier",
    "channel",
    "category_id",
    "category__name",
    "category__parent__name",
    "community_id",
    "community__name",
    "estate_id",
    "estate__name",
    "building_id",
    "building__number",
    "handler_organization_id",
    "handler_organization__name",
    "submitted_at",
)


def r20_grievances(request: HttpRequest) -> HttpResponse:
    """R20_grievances: a community's 20 newest grievances with the list's joins and the due
    time of each one's earliest running clock."""
    if _anonymous(request):
        return JsonResponse(_DENIED, status=403)
    try:
        community_id = int(request.GET.get("community", ""))
    except ValueError:
        return JsonResponse({"detail": "community is a number."}, status=400)
    next_due = (
        SlaClock.objects.filter(grievance=OuterRef("pk"), state=SlaClock.State.RUNNING)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    # 21 rows, as the cursor paginator reads one more to know whether a next page exists.
    rows = list(
        Grievance.objects.filter(community_id=community_id)
        .annotate(next_due=Subquery(next_due))
        .order_by("-id")
        .values(*_GRIEVANCE_COLUMNS, "next_due")[:21]
    )
    now = timezone.now()
    for row in rows:
        due = row["next_due"]
        row["time_left_seconds"] = None if due is None else int((due - now).total_seconds())
    return JsonResponse({"results": rows[:20], "more": len(rows) > 20})


@require_POST
def r_file(request: HttpRequest) -> HttpResponse:
    """R_file: the rows filing a hotline call writes (the grievance, its history row, the
    "filed" timeline line), in one transaction; nothing of DRF, the services or their
    checks (channel, roles, place, duplicates) runs."""
    if _anonymous(request):
        return JsonResponse(_DENIED, status=403)
    try:
        data = json.loads(request.body)
        category_id = int(data["category"])
        building_id = int(data["building"])
        title, description = str(data["title"]), str(data["description"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": "category, building, title, description."}, status=400)
    user_id = request.user.pk  # a logged-in user (checked above)
    category = Category.objects.values("default_tier", "is_private").get(pk=category_id)
    place = Building.objects.values("estate_id", "estate__community_id").get(pk=building_id)
    now = timezone.now()
    with transaction.atomic():
        # Model.objects.create: the history row is written by django-simple-history's
        # post_save, as it is for the service's save().
        grievance = Grievance.objects.create(
            community_id=place["estate__community_id"],
            estate_id=place["estate_id"],
            building_id=building_id,
            category_id=category_id,
            title=title[:120],
            description=description,
            channel=Grievance.Channel.HOTLINE,
            status=Grievance.Status.SUBMITTED,
            tier=category["default_tier"],
            submitted_by_id=user_id,
            caller_phone=str(data.get("caller_phone", ""))[:20],
            is_public=not category["is_private"],
            submitted_at=now,
        )
        TimelineEvent.objects.create(
            grievance=grievance,
            kind=TimelineEvent.Kind.CREATED,
            at=now,
            actor_id=user_id,
            new_value=Grievance.Status.SUBMITTED,
            note="hotline",
        )
    return JsonResponse(
        {
            "id": grievance.pk,
            "title": grievance.title,
            "status": grievance.status,
            "category": category_id,
            "building": building_id,
            "submitted_at": now,
        },
        status=201,
    )
