"""Writes of property fees: monthly bills, the serve-first release and payments.

A bill's paid amount moves only with the bill row locked, next to the payment row that
explains it; the check constraints (0 ≤ paid ≤ amount, paid_at only when paid in full)
are the last guard. Paying in full by the due date earns the "fee-on-time" rule once per
bill (key `fee-paid:<bill id>`), in the same transaction as the payment.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Household, Resident
from credit.models import PointsAccount, PointsEntry
from property_mgmt.models import FeeBill, FeePayment, ServiceContract
from property_mgmt.selectors.fees import building_satisfaction
from property_mgmt.services.contracts import is_office, is_provider_staff

CENT = Decimal("0.01")
ON_TIME_RULE = "fee-on-time"
BATCH = 2000


def month_end(period: dt.date) -> dt.date:
    """The last day of the month starting on `period`."""
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def _check_period(contract: ServiceContract, period: dt.date) -> None:
    if period.day != 1:
        raise ValidationError(_("A billing month starts on its first day."), code="period")
    # The month must overlap the contract's half-open period [starts_on, ends_on).
    if month_end(period) < contract.starts_on or period >= contract.ends_on:
        raise ValidationError(
            _("%(month)s is outside the contract (%(start)s to %(end)s).")
            % {"month": f"{period:%Y-%m}", "start": contract.starts_on, "end": contract.ends_on},
            code="period_outside",
        )


def _may_bill(actor: Any, contract: ServiceContract) -> bool:
    return (
        actor is not None
        and actor.is_authenticated
        and (
            is_office(actor, contract.estate.community_id)
            or is_provider_staff(actor, contract.provider_id)
        )
    )


@dataclass
class BillRun:
    """What one run of `bills_generate` did."""

    created: int = 0
    existing: int = 0
    #: households without a floor area on a per-m² contract: not billed, to be fixed
    skipped_no_area: list[int] = field(default_factory=list)


def bill_amount(contract: ServiceContract, area_m2: Decimal | None) -> Decimal | None:
    """A household's monthly fee under the contract, to the cent; None without an area."""
    if contract.fee_basis == ServiceContract.FeeBasis.PER_HOUSEHOLD:
        return Decimal(contract.fee_standard).quantize(CENT, rounding=ROUND_HALF_UP)
    if area_m2 is None:
        return None
    return (Decimal(area_m2) * Decimal(contract.fee_standard)).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def bills_generate(
    *, contract: ServiceContract, period: dt.date, now: dt.datetime, actor: Any
) -> BillRun:
    """Bill every household of the contract's estate for a month (idempotent).

    `actor` None is the scheduled run (a Celery task or seed command), which needs no role.
    """
    if actor is not None and not _may_bill(actor, contract):
        raise PermissionDenied(_("You may not bill this estate."))
    _check_period(contract, period)
    due_on = period + dt.timedelta(days=contract.due_days)
    serve_first = contract.billing_mode == ServiceContract.BillingMode.SERVE_FIRST
    run = BillRun()
    with transaction.atomic(durable=True):
        # Two runs for the same contract wait for each other, so the counts are exact;
        # the unique (household, period) is the guard against anything else.
        ServiceContract.objects.select_for_update().filter(pk=contract.pk).get()
        month_bills = FeeBill.objects.filter(estate_id=contract.estate_id, period=period)
        before_count = month_bills.count()
        households = (
            Household.objects.filter(unit__building__estate_id=contract.estate_id)
            .values_list("id", "area_m2", "unit__building_id")
            .order_by("id")
        )
        bills: list[FeeBill] = []
        for household_id, area_m2, building_id in households.iterator(chunk_size=BATCH):
            amount = bill_amount(contract, area_m2)
            if amount is None:
                run.skipped_no_area.append(household_id)
                continue
            bills.append(
                FeeBill(
                    contract=contract,
                    household_id=household_id,
                    building_id=building_id,
                    estate_id=contract.estate_id,
                    period=period,
                    amount=amount,
                    due_on=due_on,
                    payable_from=None if serve_first else now,
                )
            )
            if len(bills) >= BATCH:
                FeeBill.objects.bulk_create(bills, ignore_conflicts=True)
                bills = []
        if bills:
            FeeBill.objects.bulk_create(bills, ignore_conflicts=True)
        after_count = month_bills.count()
    run.created = after_count - before_count
    run.existing = before_count
    return run


def bills_release(
    *, contract: ServiceContract, period: dt.date, now: dt.datetime, actor: Any = None
) -> list[int]:
    """Make a serve-first month payable in the buildings whose satisfaction reached the
    contract's threshold (先服务后收费); returns the ids of the buildings released.

    The office decides (`actor` None: a scheduled run). A released bill is due `due_days`
    after its release, not after its month: a bill nobody could pay until now is not
    overdue, and paying it in time still earns the on-time points.
    """
    if actor is not None and not is_office(actor, contract.estate.community_id):
        raise PermissionDenied(_("Only the community office can release serve-first bills."))
    if contract.billing_mode != ServiceContract.BillingMode.SERVE_FIRST:
        return []
    _check_period(contract, period)
    threshold = Decimal(contract.serve_first_threshold or 0)
    satisfied = sorted(
        building_id
        for building_id, score in building_satisfaction(
            provider_id=contract.provider_id, period=period
        ).items()
        if score >= threshold
    )
    if not satisfied:
        return []
    due_after_release = timezone.localdate(now) + dt.timedelta(days=contract.due_days)
    with transaction.atomic(durable=True):
        # A compare-and-set on the column: a bill released once keeps its first date.
        released = list(
            FeeBill.objects.filter(
                contract=contract,
                period=period,
                building_id__in=satisfied,
                payable_from__isnull=True,
            )
            .values_list("building_id", flat=True)
            .distinct()
            .order_by("building_id")
        )
        FeeBill.objects.filter(
            contract=contract, period=period, building_id__in=released, payable_from__isnull=True
        ).update(payable_from=now, due_on=Greatest("due_on", Value(due_after_release)))
    return released


def points_holder(household_id: int) -> Resident | None:
    """The household's resident who receives the household's fee points.

    Credit keeps accounts per resident, not per household: the one who already holds a
    points account (the one the household uses at the supermarket), else the head of
    household, else the earliest registered; lowest id breaks ties, so the same
    resident is chosen every time. None when nobody lives there any more.
    """
    return (
        Resident.objects.filter(household_id=household_id, status=Resident.Status.ACTIVE)
        .annotate(
            has_account=Exists(PointsAccount.objects.filter(resident=OuterRef("pk"))),
            head_rank=Case(
                When(relation_to_head=Resident.Relation.HEAD, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("-has_account", "head_rank", "pk")
        .first()
    )


def _award_on_time(
    *, bill: FeeBill, actor: Any, payment: FeePayment, now: dt.datetime
) -> PointsEntry | None:
    """+5 for a bill paid in full by its due date; once per bill (the ledger's key)."""
    from credit.services import points_award, rule_for

    holder = points_holder(bill.household_id)
    if holder is None:
        return None
    try:
        # A savepoint: a missing rule or a reached cap must not undo the payment.
        with transaction.atomic():
            rule = rule_for(community=bill.estate.community, code=ON_TIME_RULE)
            return points_award(
                resident=holder,
                rule=rule,
                key=f"fee-paid:{bill.pk}",
                now=now,
                # The recorder's role over this bill was checked by the payment itself
                # (property staff of the provider or the office, incl. community admins,
                # whom the rule's awarder roles do not list); the entry still names them.
                actor=actor,
                awarder_checked=True,
                source=payment,
                note=f"{bill.period:%Y-%m}",
            )
    except (ValidationError, PermissionDenied, ObjectDoesNotExist):
        return None


def may_record_payment(actor: Any, bill: FeeBill) -> bool:
    """Property staff of the bill's provider, or the office of its community."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    return is_provider_staff(actor, bill.contract.provider_id) or is_office(
        actor, bill.estate.community_id
    )


def payment_record(
    *,
    bill: FeeBill,
    amount: Decimal,
    method: str,
    paid_at: dt.datetime,
    actor: Any,
    reference: str = "",
    source: str = FeePayment.Source.MANUAL,
    now: dt.datetime,
) -> FeePayment:
    """The body of `fee_payment_record`, inside the caller's transaction (an import)."""
    with transaction.atomic(savepoint=False):
        locked = (
            FeeBill.objects.select_for_update()
            .select_related("contract", "estate__community")
            .get(pk=bill.pk)
        )
        if not may_record_payment(actor, locked):
            raise PermissionDenied(_("You may not record payments for this bill."))
        amount = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
        reference = reference.strip()
        if method not in FeePayment.Method.values:
            raise ValidationError(_("Choose a payment method."), code="method")
        if source not in FeePayment.Source.values:
            raise ValidationError(_("Unknown payment source."), code="source")
        if reference:
            # The same receipt recorded again (a double submit, an import run twice):
            # answer with the first payment. The row lock makes this check exact.
            existing = FeePayment.objects.filter(bill=locked, reference=reference).first()
            if existing is not None:
                existing.replayed = True  # type: ignore[attr-defined]
                return existing
        if amount == 0:
            raise ValidationError(_("Enter an amount other than zero."), code="amount")
        if amount < 0 and not is_office(actor, locked.estate.community_id):
            raise PermissionDenied(_("Only the community office can record a correction."))
        if locked.payable_from is None:
            raise ValidationError(
                _(
                    "This bill is not payable yet: the building's satisfaction for the month "
                    "has not reached the contract's threshold (serve first, charge after)."
                ),
                code="not_payable",
            )
        outstanding = locked.amount - locked.paid_amount
        if amount > outstanding:
            raise ValidationError(
                _("The payment of %(amount)s is more than the %(outstanding)s outstanding.")
                % {"amount": amount, "outstanding": outstanding},
                code="overpay",
            )
        if -amount > locked.paid_amount:
            raise ValidationError(
                _("A correction cannot take back more than was paid."), code="correction"
            )
        payment = FeePayment.objects.create(
            bill=locked,
            amount=amount,
            method=method,
            source=source,
            reference=reference,
            paid_at=paid_at,
            recorded_by=actor,
        )
        paid_in_full = amount == outstanding
        FeeBill.objects.filter(pk=locked.pk).update(
            paid_amount=F("paid_amount") + amount, paid_at=paid_at if paid_in_full else None
        )
        locked.paid_amount += amount
        locked.paid_at = paid_at if paid_in_full else None
        bill.paid_amount, bill.paid_at = locked.paid_amount, locked.paid_at
        payment.replayed = False  # type: ignore[attr-defined]
        if paid_in_full and timezone.localdate(paid_at) <= locked.due_on:
            payment.award = _award_on_time(  # type: ignore[attr-defined]
                bill=locked, actor=actor, payment=payment, now=now
            )
        return payment


def fee_payment_record(
    *,
    bill: FeeBill,
    amount: Decimal,
    method: str,
    paid_at: dt.datetime,
    actor: Any,
    reference: str = "",
    source: str = FeePayment.Source.MANUAL,
    now: dt.datetime,
) -> FeePayment:
    """Record money received against a bill (缴费登记); +5 points when paid in full on time."""
    with transaction.atomic(durable=True):
        return payment_record(
            bill=bill,
            amount=amount,
            method=method,
            paid_at=paid_at,
            actor=actor,
            reference=reference,
            source=source,
            now=now,
        )
