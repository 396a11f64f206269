"""A resident's points: balance and history, with what earned or spent each point.

A resident reads only their own account (never a household member's: the household
scope of the registry is too wide for points). Office staff read the residents in their
scope through `resident_history`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Case, F, IntegerField, QuerySet, When
from django.utils.translation import gettext as _

from community.models import Resident
from community.scoping import can_view_registry
from credit.models import PointsAccount, PointsEntry
from credit.selectors.ledger import account_history, account_visible

Kind = PointsEntry.Kind


def my_resident(*, user: Any) -> Resident | None:
    """The resident the user logs in as (None: not a resident)."""
    if user is None or not user.is_authenticated:
        return None
    return Resident.objects.filter(user=user).first()


def my_balance(*, user: Any) -> dict[str, Any] | None:
    """The user's name and points balance in one query (None: not a resident).

    The balance is the hottest read of the points app (make bench): one indexed join,
    no model instances.
    """
    if user is None or not user.is_authenticated:
        return None
    # No ORDER BY (`.first()` would add one): a user is at most one resident.
    rows = Resident.objects.filter(user=user).values("name", balance=F("points_account__balance"))
    row = next(iter(rows[:1]), None)
    if row is None:
        return None
    return {"resident": row["name"], "balance": row["balance"] or 0}


def my_account(*, user: Any) -> PointsAccount | None:
    """The user's own points account (None: not a resident, or no points yet)."""
    if user is None or not user.is_authenticated:
        return None
    return PointsAccount.objects.filter(resident__user=user).select_related("resident").first()


def history_entries(*, account: PointsAccount) -> QuerySet[PointsEntry]:
    """The account's entries, newest first, with the signed amount and what they link to.

    One query: the rule, the redemption and its item, the reversed entry's rule, the
    reversal and the manual request (for its reason) are joined in.
    """
    return (
        account_history(account=account)
        .select_related(
            "redemption__item",
            "reverses__rule",
            "reverses__redemption__item",
            "reversal",
            "request",
        )
        .annotate(
            delta=Case(
                When(credit_account_id=account.pk, then=F("amount")),
                default=-F("amount"),
                output_field=IntegerField(),
            ),
        )
    )


def my_history_or_none(*, user: Any) -> QuerySet[PointsEntry] | None:
    """The user's own entries, newest first; None when the user is not a resident.

    One query finds the account (the API's "not a resident" 404 and the history both
    need it; two lookups cost a tenth of the page, make bench).
    """
    if user is None or not user.is_authenticated:
        return None
    row = Resident.objects.filter(user=user).values("points_account__id").first()
    if row is None:
        return None
    if row["points_account__id"] is None:
        return PointsEntry.objects.none()
    return history_entries(account=PointsAccount(pk=row["points_account__id"]))


def my_history(*, user: Any) -> QuerySet[PointsEntry]:
    """The user's own entries, newest first (empty when they have no account)."""
    account = my_account(user=user)
    if account is None:
        return PointsEntry.objects.none()
    return history_entries(account=account)


def resident_history(*, user: Any, resident_id: int) -> QuerySet[PointsEntry]:
    """A resident's entries for office staff and grid workers in scope (404-style: empty).

    Raises PointsAccount.DoesNotExist when the resident is out of scope or has no account.
    """
    if not can_view_registry(user):
        raise PointsAccount.DoesNotExist
    account = account_visible(user=user, resident_id=resident_id)
    if account is None:
        raise PointsAccount.DoesNotExist
    return history_entries(account=account)


@dataclass(frozen=True)
class HistoryRow:
    """One line of a resident's history, as pages and the API show it."""

    id: int
    created_at: dt.datetime
    kind: str
    kind_display: str
    delta: int
    what: str
    reason: str
    quantity: Decimal | None
    rule_id: int | None
    rule_code: str
    redemption_id: int | None
    item_name: str
    reverses_id: int | None
    reversed_by_id: int | None
    request_id: int | None


def _related(entry: PointsEntry, name: str) -> Any:
    """A reverse one-to-one joined by select_related, or None when there is none."""
    try:
        return getattr(entry, name)
    except ObjectDoesNotExist:
        return None


def _what(entry: PointsEntry, redemption: Any) -> str:
    if entry.rule_id is not None:
        return entry.rule.name  # type: ignore[union-attr]
    if redemption is not None:
        return _("Exchanged for %(item)s") % {"item": redemption.item.name}
    if entry.kind == Kind.REVERSAL and entry.reverses is not None:
        original = entry.reverses
        original_redemption = _related(original, "redemption")
        return _("Reversal of: %(what)s") % {"what": _what(original, original_redemption)}
    if entry.kind == Kind.EXPIRY:
        return _("Points expired")
    return entry.get_kind_display()


def history_row(entry: PointsEntry) -> HistoryRow:
    """What earned or spent the entry's points, and the links to follow (no query)."""
    redemption = _related(entry, "redemption")
    reversal = _related(entry, "reversal")
    request = _related(entry, "request")
    delta = getattr(entry, "delta", entry.amount)
    return HistoryRow(
        id=entry.pk,
        created_at=entry.created_at,
        kind=entry.kind,
        kind_display=entry.get_kind_display(),
        delta=int(delta),
        what=_what(entry, redemption),
        reason=(request.reason if request is not None else entry.note),
        quantity=entry.quantity,
        rule_id=entry.rule_id,
        rule_code=entry.rule.code if entry.rule_id is not None else "",  # type: ignore[union-attr]
        redemption_id=redemption.pk if redemption is not None else None,
        item_name=redemption.item.name if redemption is not None else "",
        reverses_id=entry.reverses_id,
        reversed_by_id=reversal.pk if reversal is not None else None,
        request_id=request.pk if request is not None else None,
    )


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    next_before: int | None


def history_page(
    *, entries: QuerySet[PointsEntry], before: int | None = None, size: int = 30
) -> HistoryPage:
    """One page of history, newest first, continuing below entry id `before` (keyset)."""
    if before is not None:
        entries = entries.filter(id__lt=before)
    chunk = list(entries[: size + 1])
    rows = [history_row(entry) for entry in chunk[:size]]
    return HistoryPage(rows=rows, next_before=rows[-1].id if len(chunk) > size else None)
