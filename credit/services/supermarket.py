"""Writes of the credit supermarket (信用超市): redeem, hand over, cancel, expire.

A redemption reserves the item and debits the points in one transaction; the resident
gets a pickup code (and its QR) to show at the desk on the exchange day.

Pickup deadline: a reservation may be picked up until the end of the PICKUP_DAYS-th day
(Shanghai time) after it was made; the clerk may hand over at any time before that, not
only inside an exchange window (the window governs redeeming, not the desk). After the
deadline `redemptions_expire` gives the stock and the points back.

Locking (DESIGN §4): the item row first, then the resident's account. Every path that
touches an existing redemption (cancel, expire) locks the redemption, then the item, then
the account, so no two paths wait on each other in opposite orders. Constraints
`stock >= 0`, `balance >= 0` and the unique idempotency key are the last guards.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from community.models import Resident
from credit.models import PointsAccount, Redemption, SupermarketItem
from credit.selectors.supermarket import (
    CODE_ALPHABET,
    clerk_community_ids,
    exchange_window_open,
    local,
    normalize_code,
    redeemed_in_period,
    staff_community_ids,
)
from credit.services.ledger import account_for, points_reverse, points_spend, resident_community_id

Status = Redemption.Status

PICKUP_DAYS = 7
CODE_LENGTH = 8
EXPIRE_BATCH = 100
MAX_KEY_LENGTH = 100

#: The only status changes there are. Everything else is refused (STYLE: state changes).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.RESERVED: frozenset({Status.FULFILLED, Status.CANCELLED, Status.EXPIRED}),
    Status.FULFILLED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.EXPIRED: frozenset(),
}


def _transition(redemption: Redemption, to: str, **fields: Any) -> bool:
    """Compare-and-set `redemption` from its current status to `to`; False if it moved."""
    if to not in TRANSITIONS[redemption.status]:
        return False
    changed = Redemption.objects.filter(pk=redemption.pk, status=redemption.status).update(
        status=to, **fields
    )
    if changed != 1:
        return False
    redemption.status = to
    for name, value in fields.items():
        setattr(redemption, name, value)
    return True


def pickup_deadline(now: dt.datetime) -> dt.datetime:
    """The last minute (23:59, Shanghai) of the PICKUP_DAYS-th day after `now`.

    23:59 rather than the next midnight, so the page says "pick up by 11-30 23:59", not
    "by 12-01 00:00", which residents read as one day more.
    """
    day = local(now).date() + dt.timedelta(days=PICKUP_DAYS)
    return dt.datetime.combine(day, dt.time(23, 59), tzinfo=local(now).tzinfo)


def _new_pickup_code() -> str:
    """8 characters of a 31-letter alphabet (~8.5e11 codes): not guessable at a desk."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
        if not Redemption.objects.filter(pickup_code=code).exists():
            return code


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def redemption_create(
    *,
    resident: Resident,
    item: SupermarketItem,
    quantity: int = 1,
    key: str,
    now: dt.datetime,
    actor: Any = None,
) -> Redemption:
    """Redeem points for an item (兑换): reserve it and debit the points, once per key.

    Replaying `key` (per resident) returns the first redemption unchanged, even after the
    window closed. The returned object has `replayed` set to True or False.
    """
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise _refuse(_("A valid idempotency key is required."), "key")
    if quantity < 1:
        raise _refuse(_("Enter a quantity of at least 1."), "quantity")
    scoped_key = f"{resident.pk}:{key}"
    # Fast path: a replay of a committed redemption needs no lock.
    first = Redemption.objects.filter(idempotency_key=scoped_key).first()
    if first is not None:
        first.replayed = True  # type: ignore[attr-defined]
        return first
    with transaction.atomic(durable=True):
        community_id = resident_community_id(resident)
        if item.community_id != community_id:
            raise _refuse(_("This item is not sold in your community."), "not_here")
        if exchange_window_open(community_id=community_id, now=now) is None:
            raise _refuse(
                _("The supermarket is closed now; come back on an exchange day."), "closed"
            )
        # The item row first: it serialises every redemption of this item, so stock and
        # per-resident limits are read and written by one transaction at a time.
        locked_item = SupermarketItem.objects.select_for_update().get(pk=item.pk)
        account = account_for(resident=resident)
        PointsAccount.objects.select_for_update().filter(pk=account.pk).get()  # lock only
        # A concurrent request with the same key may have committed while we waited.
        first = Redemption.objects.filter(idempotency_key=scoped_key).first()
        if first is not None:
            first.replayed = True  # type: ignore[attr-defined]
            return first
        if not locked_item.is_active:
            raise _refuse(_("This item is no longer on offer."), "inactive")
        if locked_item.limit_per_resident is not None:
            used = redeemed_in_period(resident=resident, item=locked_item, now=now)
            if used + quantity > locked_item.limit_per_resident:
                raise _refuse(
                    _("You have reached the limit for this item (%(limit)s %(period)s).")
                    % {
                        "limit": locked_item.limit_per_resident,
                        "period": locked_item.get_limit_period_display(),
                    },
                    "limit_reached",
                )
        if locked_item.stock is not None:
            if locked_item.stock < quantity:
                raise _refuse(_("Sorry, this item is out of stock."), "out_of_stock")
            SupermarketItem.objects.filter(pk=locked_item.pk).update(stock=F("stock") - quantity)
        # Refuses with code "insufficient" when the balance is short; the stock taken above
        # rolls back with it.
        entry = points_spend(
            resident=resident,
            amount=locked_item.points_price * quantity,
            key=f"redemption:{scoped_key}",
            now=now,
            actor=actor,
            source=locked_item,
            note=locked_item.name[:200],
        )
        redemption = Redemption.objects.create(
            community_id=community_id,
            resident=resident,
            item=locked_item,
            quantity=quantity,
            points=entry.amount,
            status=Status.RESERVED,
            pickup_code=_new_pickup_code(),
            idempotency_key=scoped_key,
            entry=entry,
            reserved_at=now,
            expires_at=pickup_deadline(now),
            created_by=actor,
        )
    redemption.replayed = False  # type: ignore[attr-defined]
    return redemption


def redemption_fulfil(*, code: str, clerk: Any, now: dt.datetime) -> Redemption:
    """Hand the item over at the desk (核销): the code's reservation becomes picked up.

    A code that does not exist, or belongs to another community's desk, is "unknown" (the
    clerk learns nothing about other communities); a used or expired code is refused.
    """
    normalized = normalize_code(code)
    ids = clerk_community_ids(user=clerk)
    qs = Redemption.objects.select_related("item", "resident").filter(pickup_code=normalized)
    if ids is not None:
        qs = qs.filter(community_id__in=sorted(ids))
    with transaction.atomic(durable=True):
        redemption = qs.select_for_update(of=("self",)).first() if normalized else None
        if redemption is None:
            raise _refuse(_("No reservation has this pickup code."), "unknown_code")
        if redemption.status == Status.FULFILLED:
            raise _refuse(_("This code was already used: the item was picked up."), "used")
        if redemption.status != Status.RESERVED or redemption.expires_at <= now:
            raise _refuse(
                _("This reservation has expired or was cancelled; the points were returned."),
                "expired",
            )
        if not _transition(redemption, Status.FULFILLED, fulfilled_at=now, fulfilled_by=clerk):
            raise _refuse(_("This code was already used: the item was picked up."), "used")
    return redemption


def _give_back(
    redemption: Redemption, *, to: str, now: dt.datetime, actor: Any, reason: str
) -> bool:
    """Move a locked reservation to `to`, return its stock and reverse its points."""
    if not _transition(redemption, to):
        return False
    if redemption.item.stock is not None:
        SupermarketItem.objects.filter(pk=redemption.item_id).update(
            stock=F("stock") + redemption.quantity
        )
    points_reverse(entry=redemption.entry, now=now, actor=actor, reason=reason)
    return True


def redemption_cancel(*, redemption: Redemption, actor: Any, now: dt.datetime) -> Redemption:
    """Cancel a reservation before pickup (by the resident, or office staff for them)."""
    own = redemption.resident.user_id is not None and redemption.resident.user_id == getattr(
        actor, "pk", None
    )
    staff = staff_community_ids(user=actor)
    if not own and staff is not None and redemption.community_id not in staff:
        raise PermissionDenied(_("You may not cancel this reservation."))
    with transaction.atomic(durable=True):
        locked = (
            Redemption.objects.select_for_update(of=("self",))
            .select_related("entry", "item")
            .get(pk=redemption.pk)
        )
        SupermarketItem.objects.select_for_update().filter(pk=locked.item_id).get()
        if locked.status != Status.RESERVED:
            raise _refuse(
                _("Only a reservation not yet picked up can be cancelled."), "not_reserved"
            )
        _give_back(locked, to=Status.CANCELLED, now=now, actor=actor, reason="cancelled")
    return locked


def redemptions_expire(*, now: dt.datetime) -> int:
    """Expire reservations past their pickup deadline; stock and points go back (sweep).

    Batches of EXPIRE_BATCH, each its own transaction; rows another worker (or a clerk
    handing over) holds are skipped and picked up by the next sweep.
    """
    expired = 0
    while True:
        with transaction.atomic(durable=True):
            batch = list(
                Redemption.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=Status.RESERVED, expires_at__lte=now)
                .select_related("entry", "item")
                .order_by("pk")[:EXPIRE_BATCH]
            )
            if not batch:
                return expired
            # Items, then accounts, in pk order: the order every other path locks them.
            item_ids = sorted({r.item_id for r in batch})
            list(SupermarketItem.objects.select_for_update().filter(pk__in=item_ids).order_by("pk"))
            account_ids = sorted({r.entry.debit_account_id for r in batch})
            list(
                PointsAccount.objects.select_for_update().filter(pk__in=account_ids).order_by("pk")
            )
            for redemption in batch:
                if _give_back(redemption, to=Status.EXPIRED, now=now, actor=None, reason="expired"):
                    expired += 1
