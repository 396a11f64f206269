"""Reads of property fees: satisfaction per building, collection rates, bills, arrears.

Every selector takes the acting user and narrows the bills with `community.scoping`'s
scope (property staff: the estates their company serves; staff: their community; a grid
worker: their grids' buildings; a resident: their household; anyone else: nothing). The
bills carry their building and estate, so the scope and the grouping use the
(estate, period, building) index without joining through units.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast

from accounts.phone import mask_phone
from community.models import Estate, Household, Resident
from community.scoping import scope_for
from property_mgmt.models import FeeBill, Survey, SurveyResponse

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _month_end(period: dt.date) -> dt.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def building_satisfaction(*, provider_id: int, period: dt.date) -> dict[int, Decimal]:
    """Average overall rating per building of a provider's open or closed surveys whose
    period covers the month starting on `period` (one query)."""
    rows = (
        SurveyResponse.objects.filter(
            survey__provider_id=provider_id,
            survey__status__in=[Survey.Status.OPEN, Survey.Status.CLOSED],
            survey__period_start__lte=period,
            survey__period_end__gte=_month_end(period),
        )
        .values("building_id")
        .annotate(score=Cast(Sum("overall"), DecimalField(max_digits=12, decimal_places=2)))
        .annotate(answers=Count("id"))
        .order_by()
    )
    return {
        row["building_id"]: (Decimal(row["score"]) / row["answers"]).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        for row in rows
    }


def bill_scope_q(user: Any) -> Q | None:
    """The bills `user` may see, as a filter on the bill's own columns; None: no bills."""
    scope = scope_for(user)
    if scope.everything:
        return Q()
    q = Q()
    matched = False
    for ids, lookup in (
        (scope.street_ids, "estate__community__street_id__in"),
        (scope.community_ids, "estate__community_id__in"),
        (scope.estate_ids, "estate_id__in"),
        (scope.grid_ids, "building__grid_id__in"),
        (scope.household_ids, "household_id__in"),
    ):
        if ids:
            q |= Q(**{lookup: sorted(ids)})
            matched = True
    return q if matched else None


def bills_visible(user: Any) -> QuerySet[FeeBill]:
    """All bills `user` may see."""
    q = bill_scope_q(user)
    if q is None:
        return FeeBill.objects.none()
    return FeeBill.objects.filter(q)


@dataclass
class Collection:
    """Billed and paid for one building (or the estate, or a month)."""

    key: Any
    label: str = ""
    households: int = 0
    billed: Decimal = ZERO
    paid: Decimal = ZERO
    bills_paid: int = 0

    @property
    def outstanding(self) -> Decimal:
        return self.billed - self.paid

    @property
    def rate(self) -> Decimal | None:
        """Paid / billed amount, as a fraction to 4 places; None when nothing was billed."""
        if not self.billed:
            return None
        return (self.paid / self.billed).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    def add(self, other: Collection) -> None:
        self.households += other.households
        self.billed += other.billed
        self.paid += other.paid
        self.bills_paid += other.bills_paid


@dataclass
class CollectionRates:
    """Per building (or per month) rows and their total."""

    rows: list[Collection] = field(default_factory=list)
    total: Collection = field(default_factory=lambda: Collection(key=None))


# Only columns of the (estate, period, building) index's INCLUDE: no table reads.
_AGGREGATES = {
    "households": Count("*"),
    "billed": Sum("amount"),
    "paid": Sum("paid_amount"),
    "bills_paid": Count("paid_at"),
}


def _collection(key: Any, label: str, row: Any) -> Collection:
    return Collection(
        key=key,
        label=label,
        households=row["households"],
        billed=Decimal(row["billed"] or 0).quantize(CENT),
        paid=Decimal(row["paid"] or 0).quantize(CENT),
        bills_paid=row["bills_paid"],
    )


def collection_rates(*, user: Any, estate: Estate, period: dt.date) -> CollectionRates:
    """Collection rate per building of an estate for a month, and the estate's total
    (收缴率); one grouped query on the (estate, period, building) index."""
    result = CollectionRates(total=Collection(key=estate.pk, label=estate.name))
    rows = (
        bills_visible(user)
        .filter(estate_id=estate.pk, period=period)
        .values("building_id", "building__number")
        .annotate(**_AGGREGATES)
        .order_by("building_id")
    )
    for row in rows:
        building = _collection(row["building_id"], row["building__number"], row)
        result.rows.append(building)
        result.total.add(building)
    return result


def collection_rate_by_month(*, user: Any, estate: Estate, year: int) -> CollectionRates:
    """The estate's collection rate for each billed month of a year (one grouped query)."""
    result = CollectionRates(total=Collection(key=year, label=str(year)))
    rows = (
        bills_visible(user)
        .filter(
            estate_id=estate.pk,
            period__gte=dt.date(year, 1, 1),
            period__lt=dt.date(year + 1, 1, 1),
        )
        .values("period")
        .annotate(**_AGGREGATES)
        .order_by("period")
    )
    for row in rows:
        month = _collection(row["period"], f"{row['period']:%Y-%m}", row)
        result.rows.append(month)
        result.total.add(month)
    return result


def household_bills(*, user: Any, household: Household | int) -> QuerySet[FeeBill]:
    """A household's bills, newest month first, with `outstanding` and `payable` ("my bills")."""
    household_id = household if isinstance(household, int) else household.pk
    return (
        bills_visible(user)
        .filter(household_id=household_id)
        .annotate(
            outstanding=ExpressionWrapper(
                F("amount") - F("paid_amount"),
                output_field=DecimalField(max_digits=10, decimal_places=2),
            ),
            payable=ExpressionWrapper(Q(payable_from__isnull=False), output_field=BooleanField()),
        )
        .order_by("-period")
    )


@dataclass
class ArrearsRow:
    """A household with bills past due (欠费), for the office's follow-up list."""

    household_id: int
    building: str
    unit: str
    room: str
    bills: int
    outstanding: Decimal
    oldest_period: dt.date
    oldest_due_on: dt.date
    resident_name: str = ""
    phone_masked: str = ""


def arrears(*, user: Any, estate: Estate, as_of: dt.date) -> list[ArrearsRow]:
    """Households of an estate with payable bills still unpaid after their due date,
    most owed first, with the head resident's phone masked (two queries per 1,000)."""
    rows = list(
        bills_visible(user)
        .filter(
            estate_id=estate.pk,
            due_on__lt=as_of,
            paid_amount__lt=F("amount"),
            payable_from__isnull=False,
        )
        .values(
            "household_id",
            "building__number",
            "household__unit__number",
            "household__room",
        )
        .annotate(
            bills=Count("id"),
            owed=Sum(F("amount") - F("paid_amount")),
            oldest_period=Min("period"),
            oldest_due_on=Min("due_on"),
        )
        .order_by("-owed", "household_id")
    )
    contacts: dict[int, tuple[str, str]] = {}
    household_ids = [row["household_id"] for row in rows]
    for chunk_start in range(0, len(household_ids), 1000):
        residents = (
            Resident.objects.filter(
                household_id__in=household_ids[chunk_start : chunk_start + 1000],
                status=Resident.Status.ACTIVE,
            )
            .annotate(
                head_rank=Case(
                    When(relation_to_head=Resident.Relation.HEAD, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            # The head of household answers for the bill; else the first registered.
            .order_by("household_id", "head_rank", "pk")
            .values_list("household_id", "name", "phone")
        )
        for household_id, name, phone in residents:
            contacts.setdefault(household_id, (name, mask_phone(phone)))
    return [
        ArrearsRow(
            household_id=row["household_id"],
            building=row["building__number"],
            unit=row["household__unit__number"],
            room=row["household__room"],
            bills=row["bills"],
            outstanding=Decimal(row["owed"] or 0).quantize(CENT),
            oldest_period=row["oldest_period"],
            oldest_due_on=row["oldest_due_on"],
            resident_name=contacts.get(row["household_id"], ("", ""))[0],
            phone_masked=contacts.get(row["household_id"], ("", ""))[1],
        )
        for row in rows
    ]
