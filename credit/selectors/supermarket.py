"""Reads of the credit supermarket (信用超市): catalogue, reservations, the clerk's desk.

Exchange windows are judged in Asia/Shanghai local time, whatever the server's or the
request's time zone: "the 6th, 9:00–17:00" is what the noticeboard in the community says.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from community.models import Membership, Resident
from community.scoping import scope_filter, scope_for
from credit.models import ExchangeWindow, PointsAccount, Redemption, SupermarketItem
from credit.selectors.requests import office_communities

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Redemptions that count against a resident's limit: held or handed over.
COUNTED = (Redemption.Status.RESERVED, Redemption.Status.FULFILLED)
#: Roles that may hand items over at the supermarket desk of their community.
CLERK_ROLES = (
    Membership.Role.SUPERMARKET_CLERK,
    Membership.Role.COMMUNITY_STAFF,
    Membership.Role.COMMUNITY_ADMIN,
)
#: Roles that may cancel a resident's reservation for them.
STAFF_ROLES = (Membership.Role.COMMUNITY_STAFF, Membership.Role.COMMUNITY_ADMIN)
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud, typed on a phone


def local(now: dt.datetime) -> dt.datetime:
    """`now` on the community's wall clock."""
    return now.astimezone(SHANGHAI)


def normalize_code(code: str) -> str:
    """A pickup code as typed or pasted by a scanner app: upper case, no spaces or dashes."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:12]


# --- Who is who ---------------------------------------------------------------------------


def resident_of_user(*, user: Any) -> Resident | None:
    """The resident the login belongs to (living here), with their community id; or None."""
    if user is None or not user.is_authenticated:
        return None
    return (
        scope_filter(Resident.objects.filter(user=user, status=Resident.Status.ACTIVE), user)
        .annotate(community_id=F("household__unit__building__estate__community_id"))
        .defer("id_number_ciphertext")
        .first()
    )


def _community_ids_for_roles(user: Any, roles: tuple[str, ...]) -> frozenset[int] | None:
    """Communities where the user holds one of `roles`; None means every community."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    return frozenset(
        Membership.objects.filter(
            user=user, is_active=True, role__in=roles, community__isnull=False
        ).values_list("community_id", flat=True)
    )


def clerk_community_ids(*, user: Any) -> frozenset[int] | None:
    """Communities whose supermarket desk the user may serve (None: all, a superuser)."""
    cached: frozenset[int] | bool | None = getattr(user, "_linli_clerk_communities", False)
    if cached is not False:
        return cached if isinstance(cached, frozenset) else None
    ids = _community_ids_for_roles(user, CLERK_ROLES)
    if user is not None:
        user._linli_clerk_communities = ids
    return ids


def is_clerk(*, user: Any) -> bool:
    ids = clerk_community_ids(user=user)
    return ids is None or bool(ids)


def staff_community_ids(*, user: Any) -> frozenset[int] | None:
    """Communities where the user is office staff (may cancel for a resident)."""
    scope = scope_for(user)
    if scope.everything:
        return None
    return _community_ids_for_roles(user, STAFF_ROLES)


# --- Exchange windows ---------------------------------------------------------------------


def window_is_open(window: ExchangeWindow, now: dt.datetime) -> bool:
    """Whether one window is open at `now` (Shanghai time).

    Always open, or: valid on the day, the day of month matches (blank: every day), and
    opens_at <= time < closes_at. A day 31 window does not open in a 30-day month.
    """
    moment = local(now)
    today = moment.date()
    if window.valid_from > today or (window.valid_to is not None and window.valid_to < today):
        return False
    if window.always_open:
        return True
    if window.day_of_month is not None and window.day_of_month != today.day:
        return False
    if window.opens_at is None or window.closes_at is None:
        return False
    return window.opens_at <= moment.time().replace(tzinfo=None) < window.closes_at


def exchange_windows(*, community_id: int) -> list[ExchangeWindow]:
    """A community's exchange windows, in a stable order."""
    return list(ExchangeWindow.objects.filter(community_id=community_id).order_by("id"))


def exchange_window_open(*, community_id: int, now: dt.datetime) -> ExchangeWindow | None:
    """The window that makes the supermarket open now; None: closed (also with no window)."""
    for window in exchange_windows(community_id=community_id):
        if window_is_open(window, now):
            return window
    return None


# --- Limits -------------------------------------------------------------------------------


def period_starts(now: dt.datetime) -> dict[str, dt.datetime]:
    """Start of the current month, quarter and year in Shanghai, as aware datetimes."""
    moment = local(now)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    return {
        SupermarketItem.LimitPeriod.MONTH: month,
        SupermarketItem.LimitPeriod.QUARTER: month.replace(month=3 * ((moment.month - 1) // 3) + 1),
        SupermarketItem.LimitPeriod.YEAR: month.replace(month=1),
    }


def _in_limit_period_q(now: dt.datetime, prefix: str = "", period_field: str = "") -> Q:
    """Redemptions within the item's limit period (`period_field` names the item's period)."""
    starts = period_starts(now)
    q = Q(**{period_field: SupermarketItem.LimitPeriod.EVER})
    for period, start in starts.items():
        q |= Q(**{period_field: period, f"{prefix}reserved_at__gte": start})
    return q


def redeemed_in_period(*, resident: Resident, item: SupermarketItem, now: dt.datetime) -> int:
    """How many of `item` the resident holds or took in the item's current limit period."""
    qs = Redemption.objects.filter(resident=resident, item=item, status__in=COUNTED)
    if item.limit_period != SupermarketItem.LimitPeriod.EVER:
        qs = qs.filter(reserved_at__gte=period_starts(now)[item.limit_period])
    return int(qs.aggregate(total=Sum("quantity"))["total"] or 0)


# --- Resident pages -----------------------------------------------------------------------


def resident_balance(*, resident: Resident) -> int:
    """The resident's cached balance (0 before their first entry)."""
    return int(
        PointsAccount.objects.filter(resident=resident).values_list("balance", flat=True).first()
        or 0
    )


def catalogue_for_resident(
    *, resident: Resident, now: dt.datetime, balance: int, affordable_only: bool = False
) -> QuerySet[SupermarketItem]:
    """Items on sale in the resident's community, cheapest first, in one query.

    Each carries `can_afford` and `remaining_limit` (None: no limit), computed from the
    resident's own reserved and picked-up redemptions in each item's limit period.
    """
    mine = Q(redemptions__resident=resident, redemptions__status__in=COUNTED) & _in_limit_period_q(
        now, prefix="redemptions__", period_field="limit_period"
    )
    qs = SupermarketItem.objects.filter(
        community_id=resident.community_id,  # type: ignore[attr-defined]
        is_active=True,
    )
    if affordable_only:
        qs = qs.filter(points_price__lte=balance)
    return (
        qs.select_related("provider")
        .annotate(
            used_in_period=Coalesce(Sum("redemptions__quantity", filter=mine), Value(0)),
            remaining_limit=Case(
                When(limit_per_resident__isnull=True, then=Value(None)),
                default=F("limit_per_resident") - F("used_in_period"),
                output_field=IntegerField(null=True),
            ),
            can_afford=ExpressionWrapper(Q(points_price__lte=balance), output_field=BooleanField()),
        )
        .order_by("points_price", "id")
    )


def catalogue_item_get(
    *, resident: Resident, pk: int, now: dt.datetime, balance: int
) -> SupermarketItem:
    """One item of the resident's catalogue; SupermarketItem.DoesNotExist outside it (404)."""
    return catalogue_for_resident(resident=resident, now=now, balance=balance).get(pk=pk)


def shop_item_for(*, resident: Resident, pk: int) -> SupermarketItem:
    """An active item of the resident's community, for a redemption (no catalogue figures).

    The redemption service checks price, stock, limits and window under its locks; this
    only keeps other communities' items out (SupermarketItem.DoesNotExist: 404).
    """
    community_id = getattr(resident, "community_id", None)  # resident_of_user loads it
    if community_id is None:
        community_id = (
            Resident.objects.filter(pk=resident.pk)
            .values_list("household__unit__building__estate__community_id", flat=True)
            .get()
        )
    return SupermarketItem.objects.get(pk=pk, community_id=community_id, is_active=True)


def redemptions_of_user(*, user: Any) -> QuerySet[Redemption]:
    """The user's own redemptions (as a resident), newest first."""
    resident = resident_of_user(user=user)
    if resident is None:
        return Redemption.objects.none()
    return (
        Redemption.objects.filter(resident=resident)
        .select_related("item")
        .order_by("-reserved_at", "-id")
    )


def redemption_of_user_get(*, user: Any, pk: int) -> Redemption:
    """One of the user's own redemptions; Redemption.DoesNotExist otherwise (404)."""
    return redemptions_of_user(user=user).get(pk=pk)


# --- The clerk's desk ---------------------------------------------------------------------


def redemptions_for_clerk(*, user: Any) -> QuerySet[Redemption]:
    """Redemptions of the communities whose desk the user serves."""
    ids = clerk_community_ids(user=user)
    qs = Redemption.objects.all()
    if ids is not None:
        qs = qs.filter(community_id__in=sorted(ids))
    return qs.select_related("item", "resident", "fulfilled_by")


def redemption_for_clerk_by_code(*, user: Any, code: str) -> Redemption:
    """The redemption with this pickup code at the user's desk; DoesNotExist otherwise."""
    normalized = normalize_code(code)
    if not normalized:
        raise Redemption.DoesNotExist
    return redemptions_for_clerk(user=user).get(pickup_code=normalized)


def pickups_today(*, user: Any, now: dt.datetime) -> QuerySet[Redemption]:
    """For the desk: what is waiting to be picked up, and what was handed over today."""
    day_start = local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        redemptions_for_clerk(user=user)
        .filter(
            Q(status=Redemption.Status.RESERVED, expires_at__gt=now)
            | Q(status=Redemption.Status.FULFILLED, fulfilled_at__gte=day_start)
        )
        .order_by("status", "-reserved_at", "-id")
    )


# --- The office's redemptions ledger (兑换台账) ---------------------------------------------


def redemptions_ledger(*, user: Any, start: dt.date, end: dt.date) -> QuerySet[Redemption]:
    """Redemptions of the user's office communities reserved from `start` to `end` inclusive.

    Days are Shanghai days, as on the noticeboard; oldest first, for the monthly 台账.
    """
    since = dt.datetime.combine(start, dt.time.min, tzinfo=SHANGHAI)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI)
    return (
        Redemption.objects.filter(
            community__in=office_communities(user=user),
            reserved_at__gte=since,
            reserved_at__lt=until,
        )
        .select_related("item", "resident__household__unit__building__estate", "fulfilled_by")
        .defer("resident__id_number_ciphertext")
        .order_by("reserved_at", "id")
    )
