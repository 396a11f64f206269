"""Phone pages of the credit supermarket (信用超市): the resident's shop and the clerk's desk.

A redeem form carries a key made when the page was drawn: pressing the button twice (or
a phone resending the POST) redeems once, because the service replays the key.
"""

from __future__ import annotations

import uuid
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from community.models import Resident
from credit.models import Redemption, SupermarketItem
from credit.selectors import supermarket as selectors
from credit.services.supermarket import (
    redemption_cancel,
    redemption_create,
    redemption_fulfil,
)


def qr_svg(code: str) -> SafeString:
    """The pickup code as an inline SVG QR code: a phone scanner app reads the bare code."""
    svg = segno.make(code, error="m").svg_inline(
        scale=6, border=2, dark="#000", light="#fff", omitsize=True, svgclass="qr"
    )
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S308


def _message(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _resident(request: HttpRequest) -> Resident:
    resident = selectors.resident_of_user(user=request.user)
    if resident is None:
        raise Http404
    return resident


def _require_clerk(request: HttpRequest) -> None:
    if not selectors.is_clerk(user=request.user):
        raise Http404


@login_required
def shop_catalogue(request: HttpRequest) -> HttpResponse:
    resident = _resident(request)
    now = timezone.now()
    balance = selectors.resident_balance(resident=resident)
    affordable = request.GET.get("affordable") == "1"
    community_id: int = resident.community_id  # type: ignore[attr-defined]
    items = selectors.catalogue_for_resident(
        resident=resident, now=now, balance=balance, affordable_only=affordable
    )
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "credit/shop/catalogue.html",
        {
            "page": page,
            "balance": balance,
            "affordable": affordable,
            "open_window": selectors.exchange_window_open(community_id=community_id, now=now),
            "windows": selectors.exchange_windows(community_id=community_id),
            "nav": "shop",
        },
    )


@login_required
def shop_item(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident(request)
    now = timezone.now()
    balance = selectors.resident_balance(resident=resident)
    try:
        item = selectors.catalogue_item_get(resident=resident, pk=pk, now=now, balance=balance)
    except SupermarketItem.DoesNotExist:
        raise Http404 from None
    status = 200
    if request.method == "POST":
        try:
            redemption = redemption_create(
                resident=resident,
                item=item,
                key=request.POST.get("key", ""),
                now=now,
                actor=request.user,
            )
        except ValidationError as exc:
            messages.error(request, _message(exc))
            status = 400
        else:
            messages.success(request, _("Redeemed. Show this code at the supermarket desk."))
            return redirect("credit:shop-redemption", pk=redemption.pk)
    community_id: int = resident.community_id  # type: ignore[attr-defined]
    return render(
        request,
        "credit/shop/item.html",
        {
            "item": item,
            "balance": balance,
            "open_window": selectors.exchange_window_open(community_id=community_id, now=now),
            "windows": selectors.exchange_windows(community_id=community_id),
            "key": uuid.uuid4().hex,
            "nav": "shop",
        },
        status=status,
    )


@login_required
def shop_redemptions(request: HttpRequest) -> HttpResponse:
    _resident(request)
    page = Paginator(selectors.redemptions_of_user(user=request.user), 20).get_page(
        request.GET.get("page")
    )
    rows = [
        (r, qr_svg(r.pickup_code) if r.status == Redemption.Status.RESERVED else None) for r in page
    ]
    return render(
        request,
        "credit/shop/redemptions.html",
        {"page": page, "rows": rows, "now": timezone.now(), "nav": "mine"},
    )


@login_required
def shop_redemption(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        redemption = selectors.redemption_of_user_get(user=request.user, pk=pk)
    except Redemption.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "credit/shop/redemption.html",
        {
            "r": redemption,
            "qr": qr_svg(redemption.pickup_code),
            "now": timezone.now(),
            "nav": "mine",
        },
    )


@login_required
@require_POST
def shop_redemption_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        redemption = selectors.redemption_of_user_get(user=request.user, pk=pk)
    except Redemption.DoesNotExist:
        raise Http404 from None
    try:
        redemption_cancel(redemption=redemption, actor=request.user, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, _message(exc))
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, _("Reservation cancelled; your points were returned."))
    return redirect("credit:shop-redemption", pk=pk)


def _desk(request: HttpRequest, *, code: str, found: Redemption | None, status: int) -> Any:
    return render(
        request,
        "credit/shop/clerk.html",
        {
            "code": code,
            "found": found,
            "now": timezone.now(),
            "pickups": selectors.pickups_today(user=request.user, now=timezone.now())[:50],
            "nav": "clerk",
        },
        status=status,
    )


@login_required
def clerk_desk(request: HttpRequest) -> HttpResponse:
    _require_clerk(request)
    code = selectors.normalize_code(request.GET.get("code", ""))
    if not code:
        return _desk(request, code="", found=None, status=200)
    try:
        found = selectors.redemption_for_clerk_by_code(user=request.user, code=code)
    except Redemption.DoesNotExist:
        messages.error(request, _("No reservation has this pickup code."))
        return _desk(request, code=code, found=None, status=404)
    return _desk(request, code=code, found=found, status=200)


@login_required
@require_POST
def clerk_fulfil(request: HttpRequest) -> HttpResponse:
    _require_clerk(request)
    code = selectors.normalize_code(request.POST.get("code", ""))
    try:
        redemption = redemption_fulfil(code=code, clerk=request.user, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, _message(exc))
        if exc.code == "unknown_code":
            return _desk(request, code=code, found=None, status=404)
        return redirect(f"{reverse('credit:clerk-desk')}?code={code}")
    messages.success(
        request,
        _("Handed over: %(item)s × %(quantity)s to %(name)s.")
        % {
            "item": redemption.item.name,
            "quantity": redemption.quantity,
            "name": redemption.resident.name,
        },
    )
    return redirect("credit:clerk-desk")
