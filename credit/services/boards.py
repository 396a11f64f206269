"""Publishing the red and grey list (红灰榜) and residents' choice to stay off the red list.

A board is computed from the ledger for a period and an area, then frozen: its rows
hold only what may hang on a noticeboard (surname + ** and building, points, rank),
never a name, an id or a phone. It is never edited; the unique constraint on community,
period and area refuses a second board for the same period and area.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Building, Community, Estate, Resident
from credit.models import BoardSnapshot, PointsAccount, PointsEntry, PointsRequest, RedListOptOut
from credit.selectors.boards import (
    display_building,
    display_surname,
    period_bounds,
    publisher_community_ids,
)
from credit.services.ledger import points_amount

Kind = PointsEntry.Kind


def _check_period_start(period: str, start: dt.date) -> None:
    if period not in BoardSnapshot.Period.values:
        raise ValidationError(_("Choose a month, a quarter or a year."), code="period")
    first_months = {"month": range(1, 13), "quarter": (1, 4, 7, 10), "year": (1,)}[period]
    if start.day != 1 or start.month not in first_months:
        raise ValidationError(
            _("A %(period)s starts on the first day of a %(period)s.")
            % {"period": BoardSnapshot.Period(period).label},
            code="period_start",
        )


def _area(community: Community, area_kind: str, area_id: int) -> tuple[Q, str]:
    """Which residents live in the area (a filter on Resident) and its display name."""
    if area_kind == BoardSnapshot.Area.COMMUNITY and area_id == community.pk:
        return Q(household__unit__building__estate__community=community), community.name
    if area_kind == BoardSnapshot.Area.ESTATE:
        estate = Estate.objects.filter(pk=area_id, community=community).first()
        if estate is not None:
            return Q(household__unit__building__estate=estate), estate.name
    if area_kind == BoardSnapshot.Area.BUILDING:
        building = (
            Building.objects.filter(pk=area_id, estate__community=community)
            .select_related("estate")
            .first()
        )
        if building is not None:
            return Q(
                household__unit__building=building
            ), f"{building.estate.name} {building.number}"
    raise ValidationError(_("That area is not in this community."), code="area")


def _ranked(points: dict[int, int], limit: int | None) -> list[tuple[int, int, int]]:
    """(rank, resident id, points), most points first; ties share a rank (1, 2, 2, 4).

    With a limit, everyone ranked within it is kept, so a tie at the last place is not
    decided by chance.
    """
    ordered = sorted(points.items(), key=lambda item: (-abs(item[1]), item[0]))
    result: list[tuple[int, int, int]] = []
    previous: int | None = None
    rank = 0
    for position, (resident_id, value) in enumerate(ordered, start=1):
        if value != previous:
            rank = position
            previous = value
        if limit is not None and rank > limit:
            break
        result.append((rank, resident_id, value))
    return result


def _awards(resident_ids: list[int], start: dt.datetime, end: dt.datetime) -> dict[int, int]:
    """Net points earned in the period: its awards, leaving out those reversed since."""
    rows = (
        PointsEntry.objects.filter(
            kind=Kind.AWARD,
            credit_account__kind=PointsAccount.Kind.RESIDENT,
            credit_account__resident_id__in=resident_ids,
            created_at__gte=start,
            created_at__lt=end,
            reversal__isnull=True,
        )
        .values_list("credit_account__resident_id")
        .annotate(total=Sum("amount"))
        .values_list("credit_account__resident_id", "total")
        .order_by()
    )
    return {rid: int(total) for rid, total in rows if total}


def _deductions(resident_ids: list[int], start: dt.datetime, end: dt.datetime) -> dict[int, int]:
    """Points deducted in the period and standing (not reversed), as positive numbers.

    A deduction applied from a request counts its full amount, even when the balance
    had less to take (ledger.points_deduct): the grey list records the misconduct, not
    what the account could pay. Its time is when it was applied: its entry, else the
    upheld appeal, else the end of the appeal window.
    """
    totals: dict[int, int] = defaultdict(int)
    requests = (
        PointsRequest.objects.filter(
            kind=PointsRequest.Kind.DEDUCTION,
            status=PointsRequest.Status.APPLIED,
            resident_id__in=resident_ids,
        )
        .filter(Q(entry__isnull=True) | Q(entry__reversal__isnull=True))
        .select_related("rule", "entry", "appeal")
        .order_by("id")
    )
    from_requests: set[int] = set()
    for request in requests:
        if request.entry_id is not None:
            from_requests.add(request.entry_id)
        applied_at = _request_applied_at(request)
        if applied_at is None or not start <= applied_at < end:
            continue
        totals[request.resident_id] += points_amount(request.rule, request.quantity)
    entries = (
        PointsEntry.objects.filter(
            kind=Kind.DEDUCTION,
            debit_account__kind=PointsAccount.Kind.RESIDENT,
            debit_account__resident_id__in=resident_ids,
            created_at__gte=start,
            created_at__lt=end,
            reversal__isnull=True,
        )
        .exclude(pk__in=sorted(from_requests))
        .values_list("debit_account__resident_id", "amount")
        .order_by()
    )
    for resident_id, amount in entries:
        totals[resident_id] += amount
    return {rid: total for rid, total in totals.items() if total > 0}


def _request_applied_at(request: PointsRequest) -> dt.datetime | None:
    if request.entry is not None:
        return request.entry.created_at
    appeal = getattr(request, "appeal", None)
    if appeal is not None and appeal.decided_at is not None:
        return appeal.decided_at
    return request.appeal_deadline or request.decided_at


def _rows(ranked: list[tuple[int, int, int]], people: dict[int, tuple[str, str]]) -> list[dict]:
    return [
        {
            "rank": rank,
            "name": display_surname(people[rid][0]),
            "building": display_building(people[rid][1]),
            "points": value,
        }
        for rank, rid, value in ranked
    ]


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def board_publish(
    *,
    actor: Any,
    community: Community,
    period: str,
    period_start: dt.date,
    area_kind: str,
    area_id: int,
    now: dt.datetime,
    top_n: int = 10,
) -> BoardSnapshot:
    """Compute the red/grey list of a period and area from the ledger and freeze it (发布).

    Only staff or admins of the community publish; a period is published once per area.
    """
    if community.pk not in publisher_community_ids(actor):
        raise PermissionDenied(_("Only the community office may publish its red and grey list."))
    _check_period_start(period, period_start)
    if top_n < 1:
        raise ValidationError(_("The red list needs at least one place."), code="top_n")
    period_end = period_bounds(period, period_start)
    if period_end >= timezone.localdate(now):
        raise ValidationError(
            _("This period has not ended yet; publish its list after %(end)s.")
            % {"end": period_end.isoformat()},
            code="period_open",
        )
    in_area, area_name = _area(community, area_kind, area_id)
    key = {
        "community": community,
        "period": period,
        "period_start": period_start,
        "area_kind": area_kind,
        "area_id": area_id,
    }
    already = _("The list for this period and area was already published; it cannot be changed.")
    if BoardSnapshot.objects.filter(**key).exists():
        raise ValidationError(already, code="published")
    start, end = _local_midnight(period_start), _local_midnight(period_end + dt.timedelta(days=1))
    try:
        with transaction.atomic(durable=True):
            residents = Resident.objects.filter(in_area, status=Resident.Status.ACTIVE)
            people = {
                rid: (name, number)
                for rid, name, number in residents.values_list(
                    "id", "name", "household__unit__building__number"
                ).order_by("id")
            }
            ids = sorted(people)
            opted_out = set(
                RedListOptOut.objects.filter(resident_id__in=ids).values_list(
                    "resident_id", flat=True
                )
            )
            earned = {r: p for r, p in _awards(ids, start, end).items() if r not in opted_out}
            deducted = {r: -p for r, p in _deductions(ids, start, end).items()}
            return BoardSnapshot.objects.create(
                **key,
                period_end=period_end,
                area_name=area_name,
                red_rows=_rows(_ranked(earned, top_n), people),
                grey_rows=_rows(_ranked(deducted, None), people),
                published_at=now,
                published_by=actor,
            )
    except IntegrityError:
        # Two publishers at once: the unique constraint let one through.
        if BoardSnapshot.objects.filter(**key).exists():
            raise ValidationError(already, code="published") from None
        raise


def red_list_opt_out(*, resident_user: Any, opt_out: bool) -> bool:
    """A resident chooses to stay off (or back on) the red list; returns the new choice."""
    with transaction.atomic(durable=True):
        resident = (
            Resident.objects.filter(user=resident_user, status=Resident.Status.ACTIVE)
            .order_by("id")
            .first()
        )
        if resident is None:
            raise PermissionDenied(_("Only a registered resident can make this choice."))
        if opt_out:
            RedListOptOut.objects.get_or_create(resident=resident)
        else:
            RedListOptOut.objects.filter(resident=resident).delete()
        return opt_out
