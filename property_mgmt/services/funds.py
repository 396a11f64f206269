"""Writes of the self-managed funds (自管委资金): "one keeps the money, one keeps the books".

- The office (community staff or admins of the estate's community) opens a fund and names
  its keeper (管钱) and bookkeeper (管账): two different committee members of the estate.
- The keeper or the bookkeeper records income (the annual fee of a household, donations).
- A committee member requests an expense with quotes; another member approves or rejects
  it; the keeper pays it (with receipts); the bookkeeper books it.
- Entries are append-only (a trigger on PostgreSQL refuses UPDATE and DELETE): a mistake
  is fixed by a correction entry pointing at the entry it corrects.

Money moves only with the fund row locked (`_fund_lock`): the balance read under the lock
is the balance the entry's `balance_after` and the `F()` update start from, so two
payments at once cannot both spend the same yuan (openedx-ledger ADR 0002: isolation
alone let a balance reach −2). Every service that locks both the fund and an expense
locks the fund first, so two of them cannot deadlock. The CHECK constraints
`balance >= 0` on the fund and on every entry are the last guard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Estate, Household
from property_mgmt.attachments import expense_attachments_record, photos_check, photos_stored
from property_mgmt.models import ExpenseAttachment, ExpenseRequest, Fund, FundEntry
from property_mgmt.selectors.funds import INCOME_KINDS, is_committee_member, is_estate_office
from property_mgmt.services.common import field_error

Status = ExpenseRequest.Status
Kind = FundEntry.Kind
_CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("99999999.99")  # ExpenseRequest.amount: 10 digits, 2 decimals


def money(value: Any, *, field: str = "amount", allow_negative: bool = False) -> Decimal:
    """An amount in RMB with at most two decimals, not zero; refuses anything else."""
    invalid = field_error(field, _("Enter an amount in RMB, e.g. 300 or 12.50."), "amount")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise invalid from exc
    if not amount.is_finite() or amount != amount.quantize(_CENT) or abs(amount) > _MAX_AMOUNT:
        raise invalid
    if amount == 0 or (amount < 0 and not allow_negative):
        raise field_error(field, _("The amount must be more than zero."), "amount")
    return amount.quantize(_CENT)


def _fund_lock(fund: Fund | int) -> Fund:
    """The fund row, locked for the rest of the transaction, as it is now.

    FOR NO KEY UPDATE: entries and requests that merely reference the fund may still be
    inserted meanwhile; every other money move waits here.
    """
    pk = fund if isinstance(fund, int) else fund.pk
    return (
        Fund.objects.select_for_update(no_key=True, of=("self",))
        .select_related("estate")
        .get(pk=pk)
    )


def _expense_lock(expense: ExpenseRequest) -> ExpenseRequest:
    return ExpenseRequest.objects.select_for_update(no_key=True).get(pk=expense.pk)


def _conflict() -> ValidationError:
    return ValidationError(
        _("Someone else changed this expense meanwhile. Reload and try again."), code="conflict"
    )


def _history(model: Any, obj: Any, *, actor: Any, now: dt.datetime, reason: str) -> None:
    """update() skips simple-history's signal: record the change (and who made it) here."""
    model.history.bulk_history_create(
        [obj], update=True, default_user=actor, default_change_reason=reason[:100], default_date=now
    )


def _require_office(actor: Any, estate: Estate) -> None:
    if not is_estate_office(actor, estate):
        raise PermissionDenied(_("Only the community office may set up a self-managed fund."))


def _check_officers(*, estate: Estate, keeper: Any, bookkeeper: Any) -> None:
    if keeper is None or bookkeeper is None:
        raise ValidationError(_("Name both the keeper and the bookkeeper."), code="officers")
    if keeper.pk == bookkeeper.pk:
        raise ValidationError(
            _(
                "The keeper and the bookkeeper must be different people: one keeps the money, "
                "the other keeps the books."
            ),
            code="keeper_is_bookkeeper",
        )
    for user in (keeper, bookkeeper):
        if not is_committee_member(user, estate.pk):
            raise ValidationError(
                _("%(name)s is not a member of this estate's committee.") % {"name": user.name},
                code="not_committee",
            )


def _officers_error(exc: IntegrityError) -> ValidationError:
    """The database refused the officers: say why in words (the constraint is the guard)."""
    if "fund_keeper_is_not_bookkeeper" in str(exc):
        return ValidationError(
            _(
                "The keeper and the bookkeeper must be different people: one keeps the money, "
                "the other keeps the books."
            ),
            code="keeper_is_bookkeeper",
        )
    return ValidationError(_("This estate already has a self-managed fund."), code="fund_exists")


def fund_create(
    *,
    actor: Any,
    estate: Estate,
    name: str,
    keeper: Any,
    bookkeeper: Any,
    annual_fee: Any,
    now: dt.datetime,
) -> Fund:
    """The office opens the estate's fund with its keeper and bookkeeper (one per estate)."""
    _require_office(actor, estate)
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Give the fund a name."), "required")
    fee = Decimal("0.00") if annual_fee in (None, "", 0) else money(annual_fee, field="annual_fee")
    _check_officers(estate=estate, keeper=keeper, bookkeeper=bookkeeper)
    fund = Fund(estate=estate, name=name, keeper=keeper, bookkeeper=bookkeeper, annual_fee=fee)
    fund._history_user = actor  # type: ignore[attr-defined]
    fund._history_date = now  # type: ignore[attr-defined]
    try:
        with transaction.atomic(durable=True):
            fund.save()
    except IntegrityError as exc:
        raise _officers_error(exc) from exc
    return fund


def fund_officers_change(
    *, fund: Fund, actor: Any, keeper: Any, bookkeeper: Any, now: dt.datetime, reason: str = ""
) -> Fund:
    """The office names a new keeper and/or bookkeeper; the history records who did it."""
    _require_office(actor, fund.estate)
    _check_officers(estate=fund.estate, keeper=keeper, bookkeeper=bookkeeper)
    try:
        with transaction.atomic(durable=True):
            locked = _fund_lock(fund)
            Fund.objects.filter(pk=locked.pk).update(keeper=keeper, bookkeeper=bookkeeper)
            locked.keeper, locked.bookkeeper = keeper, bookkeeper
            _history(
                Fund, locked, actor=actor, now=now, reason=reason.strip() or "officers changed"
            )
    except IntegrityError as exc:
        raise _officers_error(exc) from exc
    fund.keeper, fund.bookkeeper = keeper, bookkeeper
    return fund


def _entry_write(
    *,
    fund: Fund,
    kind: str,
    amount: Decimal,
    actor: Any,
    now: dt.datetime,
    description: str,
    occurred_on: dt.date | None = None,
    household: Household | None = None,
    payer_name: str = "",
    expense: ExpenseRequest | None = None,
    corrects: FundEntry | None = None,
) -> FundEntry:
    """Write one entry and move the cached balance; the caller holds the fund lock."""
    balance_after = fund.balance + amount
    if balance_after < 0:
        raise ValidationError(
            _("The fund holds %(balance)s RMB; this needs %(amount)s RMB.")
            % {"balance": fund.balance, "amount": -amount},
            code="balance_short",
        )
    entry = FundEntry.objects.create(
        fund=fund,
        kind=kind,
        amount=amount,
        balance_after=balance_after,
        household=household,
        payer_name=payer_name,
        description=description,
        occurred_on=occurred_on or timezone.localdate(now),
        expense=expense,
        corrects=corrects,
        recorded_by=actor,
        recorded_at=now,
    )
    Fund.objects.filter(pk=fund.pk).update(balance=F("balance") + amount)
    fund.balance = balance_after
    return entry


def fund_income_record(
    *,
    fund: Fund,
    actor: Any,
    kind: str,
    amount: Any,
    occurred_on: dt.date,
    household: Household | None = None,
    payer_name: str = "",
    description: str = "",
    now: dt.datetime,
) -> FundEntry:
    """The keeper or the bookkeeper records income: a household's annual fee, a donation."""
    if kind not in INCOME_KINDS:
        raise field_error("kind", _("Choose the kind of income."), "kind")
    value = money(amount)
    if occurred_on > timezone.localdate(now):
        raise field_error("occurred_on", _("Income cannot be dated in the future."), "future")
    if kind == Kind.FEE and household is None:
        raise field_error("household", _("Say which household paid the annual fee."), "household")
    if (
        household is not None
        and not Household.objects.filter(
            pk=household.pk, unit__building__estate_id=fund.estate_id
        ).exists()
    ):
        raise field_error(
            "household", _("This household is not in the fund's estate."), "household"
        )
    description = (description or "").strip()
    if not description:
        description = str(Kind(kind).label)
    with transaction.atomic(durable=True):
        locked = _fund_lock(fund)
        if actor.pk not in (locked.keeper_id, locked.bookkeeper_id):
            raise PermissionDenied(_("Only the keeper or the bookkeeper may record income."))
        entry = _entry_write(
            fund=locked,
            kind=kind,
            amount=value,
            actor=actor,
            now=now,
            description=description[:200],
            occurred_on=occurred_on,
            household=household,
            payer_name=(payer_name or "").strip()[:100],
        )
    fund.balance = locked.balance
    return entry


def expense_request(
    *,
    fund: Fund,
    actor: Any,
    purpose: str,
    amount: Any,
    photos: Iterable[Any] | None = None,
    now: dt.datetime,
) -> ExpenseRequest:
    """A committee member asks to spend from the fund, with quotes as photos."""
    if not is_committee_member(actor, fund.estate_id):
        raise PermissionDenied(_("Only a member of the estate's committee may request an expense."))
    purpose = (purpose or "").strip()
    if not purpose:
        raise field_error("purpose", _("Say what the money is for."), "required")
    value = money(amount)
    checked = photos_check(photos)
    expense = ExpenseRequest(
        fund=fund,
        purpose=purpose[:200],
        amount=value,
        status=Status.REQUESTED,
        requested_by=actor,
        requested_at=now,
    )
    expense._history_user = actor  # type: ignore[attr-defined]
    expense._history_date = now  # type: ignore[attr-defined]
    with photos_stored(checked) as stored, transaction.atomic(durable=True):
        expense.save()
        expense_attachments_record(
            expense=expense, stored=stored, kind=ExpenseAttachment.Kind.QUOTE, actor=actor
        )
    return expense


def expense_decide(
    *, expense: ExpenseRequest, actor: Any, approve: bool, note: str = "", now: dt.datetime
) -> ExpenseRequest:
    """Another committee member approves or rejects a request (never the requester)."""
    fund = expense.fund
    if not is_committee_member(actor, fund.estate_id):
        raise PermissionDenied(_("Only a member of the estate's committee may approve expenses."))
    if actor.pk == expense.requested_by_id:
        raise PermissionDenied(
            _("You requested this expense: another committee member must decide it.")
        )
    note = (note or "").strip()
    if not approve and not note:
        raise field_error("note", _("Say why the expense is rejected."), "required")
    to = Status.APPROVED if approve else Status.REJECTED
    try:
        with transaction.atomic(durable=True):
            locked = _expense_lock(expense)
            if locked.status != Status.REQUESTED:
                raise ValidationError(
                    _("This expense has already been decided."), code="already_decided"
                )
            fields = {"decided_by": actor, "decided_at": now, "decision_note": note}
            moved = ExpenseRequest.objects.filter(pk=locked.pk, status=Status.REQUESTED).update(
                status=to, **fields
            )
            if moved != 1:
                raise _conflict()
            locked.status = to
            for key, value in fields.items():
                setattr(locked, key, value)
            _history(ExpenseRequest, locked, actor=actor, now=now, reason=f"requested → {to}")
    except IntegrityError as exc:
        # expense_not_decided_by_requester: the database's word when the check above was
        # raced or bypassed.
        raise PermissionDenied(
            _("You requested this expense: another committee member must decide it.")
        ) from exc
    return locked


def expense_pay(
    *,
    expense: ExpenseRequest,
    actor: Any,
    receipts: Iterable[Any] | None = None,
    now: dt.datetime,
) -> ExpenseRequest:
    """The keeper pays an approved expense: the entry is written and the balance moves,
    refused when the fund cannot afford it."""
    checked = photos_check(receipts)
    with photos_stored(checked) as stored, transaction.atomic(durable=True):
        fund = _fund_lock(expense.fund_id)  # the fund first, then the request: no deadlock
        if actor.pk != fund.keeper_id:
            raise PermissionDenied(_("Only the fund's keeper may pay an expense."))
        locked = _expense_lock(expense)
        if locked.status != Status.APPROVED:
            raise ValidationError(
                _("Only an approved expense can be paid (this one is %(status)s).")
                % {"status": locked.get_status_display()},
                code="not_approved",
            )
        if fund.balance < locked.amount:
            raise ValidationError(
                _("The fund holds %(balance)s RMB; this expense needs %(amount)s RMB.")
                % {"balance": fund.balance, "amount": locked.amount},
                code="balance_short",
            )
        fields = {"paid_by": actor, "paid_at": now}
        moved = ExpenseRequest.objects.filter(pk=locked.pk, status=Status.APPROVED).update(
            status=Status.PAID, **fields
        )
        if moved != 1:
            raise _conflict()
        locked.status = Status.PAID
        for key, value in fields.items():
            setattr(locked, key, value)
        _entry_write(
            fund=fund,
            kind=Kind.EXPENSE,
            amount=-locked.amount,
            actor=actor,
            now=now,
            description=locked.purpose,
            expense=locked,
        )
        expense_attachments_record(
            expense=locked, stored=stored, kind=ExpenseAttachment.Kind.RECEIPT, actor=actor
        )
        _history(ExpenseRequest, locked, actor=actor, now=now, reason="approved → paid")
    return locked


def expense_book(*, expense: ExpenseRequest, actor: Any, now: dt.datetime) -> ExpenseRequest:
    """The bookkeeper books a paid expense (checks the receipt against the entry)."""
    with transaction.atomic(durable=True):
        fund = _fund_lock(expense.fund_id)
        if actor.pk != fund.bookkeeper_id:
            raise PermissionDenied(_("Only the fund's bookkeeper may book an expense."))
        locked = _expense_lock(expense)
        if locked.status != Status.PAID:
            raise ValidationError(
                _("Only a paid expense can be booked (this one is %(status)s).")
                % {"status": locked.get_status_display()},
                code="not_paid",
            )
        if locked.paid_by_id == actor.pk:
            # Officers changed between paying and booking: the payer may not book it too.
            raise PermissionDenied(_("You paid this expense: someone else must book it."))
        fields = {"booked_by": actor, "booked_at": now}
        moved = ExpenseRequest.objects.filter(pk=locked.pk, status=Status.PAID).update(
            status=Status.BOOKED, **fields
        )
        if moved != 1:
            raise _conflict()
        locked.status = Status.BOOKED
        for key, value in fields.items():
            setattr(locked, key, value)
        _history(ExpenseRequest, locked, actor=actor, now=now, reason="paid → booked")
    return locked


def fund_entry_correct(
    *, entry: FundEntry, actor: Any, amount: Any, reason: str, now: dt.datetime
) -> FundEntry:
    """The bookkeeper corrects an entry with a new one pointing at it (never an edit).

    `amount` is the signed change: −270 takes 270 RMB off an income recorded 270 too high.
    """
    value = money(amount, allow_negative=True)
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Say what the correction is for."), "required")
    try:
        with transaction.atomic(durable=True):
            fund = _fund_lock(entry.fund_id)
            if actor.pk != fund.bookkeeper_id:
                raise PermissionDenied(_("Only the fund's bookkeeper may correct entries."))
            if FundEntry.objects.filter(corrects_id=entry.pk).exists():
                raise ValidationError(
                    _("This entry has already been corrected; correct the correction instead."),
                    code="already_corrected",
                )
            correction = _entry_write(
                fund=fund,
                kind=Kind.CORRECTION,
                amount=value,
                actor=actor,
                now=now,
                description=reason[:200],
                corrects=entry,
            )
    except IntegrityError as exc:  # the one-to-one `corrects`: corrected twice at once
        raise ValidationError(
            _("This entry has already been corrected; correct the correction instead."),
            code="already_corrected",
        ) from exc
    return correction
