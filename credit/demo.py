"""Demo points for the made-up demo street: the standard, a month of awards, a catalogue.

Idempotent: rules and items are found by their natural keys, every award by its key.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from community.models import Community, Membership, Organization, Resident, Street
from credit.models import BoardSnapshot, ExchangeWindow, PointsEntry, SupermarketItem
from credit.services.boards import board_publish
from credit.services.ledger import points_award
from credit.services.rules import rule_for, standard_install

#: (name, kind, price, stock or None, limit per month or None, description)
CATALOGUE = [
    ("分类垃圾袋（一卷）", "goods", 10, 200, 4, "厨余、其他垃圾专用袋，每卷30只。"),
    ("洗衣液 2kg", "goods", 60, 40, 1, "惠民便利店提供。"),
    ("东北大米 5kg", "goods", 120, 20, 1, "惠民便利店提供。"),
    ("食用油 1.8L", "goods", 90, 25, 1, "惠民便利店提供。"),
    ("信易+非遗剪纸课（一次）", "course", 30, 15, 2, "社区活动室，周三下午，非遗传承人授课。"),
    ("老年智能手机课（四次）", "course", 20, None, 1, "教会用健康码、视频通话和防诈骗。"),
    ("理疗服务（30分钟）", "service", 50, None, 2, "社区卫生服务站提供，需提前预约。"),
    ("义剪（理发一次）", "service", 15, None, 2, "每周六上午，便民服务队。"),
]

# Rules residents earn under in a typical month, and how often (share of residents).
MONTH = [
    ("volunteer-hour", 0.12, (1, 4)),
    ("garbage-recyclables-kg", 0.30, (2, 9)),
    ("kitchen-waste-kg", 0.20, (1, 5)),
    ("fee-on-time", 0.35, (1, 1)),
    ("patrol-shift", 0.05, (1, 1)),
    ("elderly-care-visit", 0.03, (1, 1)),
    ("suggestion-adopted", 0.01, (1, 1)),
]


#: The demo month ends here, whatever day it is seeded: reruns find the same keys.
DEMO_MONTH_END = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)


def credit_demo_build(*, street: Street, now: dt.datetime = DEMO_MONTH_END) -> dict[str, int]:
    """Install the standard, a catalogue and a month of awards for the demo street."""
    start = timezone.localdate(now) - dt.timedelta(days=365)
    created = {"rules": standard_install(street=street, valid_from=start)}
    communities = list(Community.objects.filter(street=street).order_by("id"))
    with transaction.atomic(durable=True):
        created["items"] = sum(_catalogue(community) for community in communities)
    before = PointsEntry.objects.count()
    rng = random.Random(1715)
    for community in communities:
        rules = {code: rule_for(community=community, code=code) for code, _share, _q in MONTH}
        residents = list(
            Resident.objects.filter(
                household__unit__building__estate__community=community,
                status=Resident.Status.ACTIVE,
            )
            .order_by("id")
            .only("id")
        )
        for day in range(30, 0, -1):
            when = now - dt.timedelta(days=day, hours=rng.randint(0, 8))
            with transaction.atomic(durable=True):
                for resident in residents:
                    for code, share, (low, high) in MONTH:
                        if rng.random() >= share / 10:  # about `share` of residents a month
                            continue
                        _award(rules[code], resident, when, Decimal(rng.randint(low, high)))
    created["entries"] = PointsEntry.objects.count() - before
    created["boards"] = sum(_red_list(community, now) for community in communities)
    return created


def _red_list(community: Community, now: dt.datetime) -> int:
    """Publish last month's red/grey list for the community, as the office would."""
    start = (timezone.localdate(now).replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    if BoardSnapshot.objects.filter(
        community=community, period="month", period_start=start, area_kind="community"
    ).exists():
        return 0
    office = (
        User.objects.filter(
            memberships__community=community,
            memberships__role__in=[
                Membership.Role.COMMUNITY_ADMIN,
                Membership.Role.COMMUNITY_STAFF,
            ],
            memberships__is_active=True,
        )
        .order_by("pk")
        .first()
    )
    if office is None:
        return 0
    board_publish(
        actor=office,
        community=community,
        period="month",
        period_start=start,
        area_kind="community",
        area_id=community.pk,
        now=now,
    )
    return 1


def _award(rule: Any, resident: Resident, when: dt.datetime, quantity: Decimal) -> None:
    key = f"demo:{resident.pk}:{rule.code}:{when:%Y%m%d}"
    if PointsEntry.objects.filter(idempotency_key=key).exists():
        return
    try:
        with transaction.atomic():  # a capped award is skipped, not fatal
            points_award(resident=resident, rule=rule, key=key, now=when, quantity=quantity)
    except ValidationError:  # a cap reached ends a demo award quietly
        pass


def _catalogue(community: Community) -> int:
    merchant = Organization.objects.filter(kind=Organization.Kind.MERCHANT).first()
    made = 0
    for name, kind, price, stock, limit, description in CATALOGUE:
        _item, new = SupermarketItem.objects.get_or_create(
            community=community,
            name=name,
            defaults={
                "kind": kind,
                "points_price": price,
                "stock": stock,
                "limit_per_resident": limit,
                "description": description,
                "provider": merchant if kind == "goods" else None,
            },
        )
        made += new
    ExchangeWindow.objects.get_or_create(
        community=community,
        name="每月6日兑换日",
        defaults={"day_of_month": 6, "opens_at": dt.time(9), "closes_at": dt.time(17)},
    )
    ExchangeWindow.objects.get_or_create(
        community=community, name="社区服务站预约兑换（全天）", defaults={"always_open": True}
    )
    return made
