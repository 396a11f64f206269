"""The property demo's self-managed fund: a year of annual fees door to door, a donation,
and expenses in every state (booked, rejected, paid and waiting for the bookkeeper, waiting
for a decision), each approved by a second committee member.
"""

from __future__ import annotations

import datetime as dt
import io
import random

from accounts.models import User
from community.management.commands.seed_registry_demo import DEMO_PASSWORD
from community.models import Community, Estate, Household, Membership
from community.services.registry import membership_grant
from property_mgmt.demo.common import Cast, Role, local_time, months_before
from property_mgmt.models import ExpenseRequest, Fund, FundEntry
from property_mgmt.services.funds import (
    expense_book,
    expense_decide,
    expense_pay,
    expense_request,
    fund_create,
    fund_income_record,
)

#: Two more committee members beside 冯委员: the keeper (管钱) and the bookkeeper (管账).
COMMITTEE = [("13800000018", "卫委员"), ("13800000028", "蒋委员")]

#: The fund's expenses: (purpose, amount, requested on, outcome).
#: outcome: booked | rejected | paid (waits for the bookkeeper) | requested (waits for a
#: decision: the approval queue of the demo).
EXPENSES = [
    ("楼道感应灯更换（LED，共24盏）", "1860.00", dt.date(2026, 1, 8), "booked"),
    ("化粪池清掏", "3200.00", dt.date(2026, 3, 12), "booked"),
    ("健身器材维修（单杠、漫步机）", "980.00", dt.date(2026, 5, 16), "booked"),
    ("中心绿地补植月季", "2400.00", dt.date(2026, 7, 6), "booked"),
    ("中秋邻里节演出费", "1500.00", dt.date(2026, 9, 2), "rejected"),
    ("单元门禁维修（3号楼1单元）", "1250.00", dt.date(2026, 11, 10), "paid"),
    ("冬季楼道防滑垫采购", "860.00", dt.date(2026, 11, 18), "requested"),
]
RECEIPT_FOR = "健身器材维修（单杠、漫步机）"


def _receipt() -> bytes:
    """A small made-up receipt photo: a white slip with a red stamp."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (120, 160), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for y in range(20, 120, 14):
        draw.line((12, y, 108, y), fill=(120, 120, 120), width=2)
    draw.ellipse((70, 112, 110, 152), outline=(200, 30, 30), width=4)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


def _committee(community: Community, office: User) -> tuple[Estate, list[User]] | None:
    """The estate whose committee has a member (冯委员 in the demo), and its members with
    the keeper and bookkeeper added (logins with the demo password)."""
    first = (
        Membership.objects.filter(
            role=Role.COMMITTEE_MEMBER,
            is_active=True,
            estate__community=community,
            user__is_active=True,
        )
        .select_related("estate", "user")
        .order_by("pk")
        .first()
    )
    if first is None or first.estate is None:
        return None
    estate = first.estate
    members = [first.user]
    for phone, name in COMMITTEE:
        user = User.objects.filter(phone=phone).first()
        if user is None:
            user = User.objects.create_user(phone, DEMO_PASSWORD, name=name)
        if not Membership.objects.filter(
            user=user, role=Role.COMMITTEE_MEMBER, estate=estate, is_active=True
        ).exists():
            membership_grant(
                actor=office,
                user=user,
                role=Role.COMMITTEE_MEMBER,
                estate=estate,
                community=community,
            )
        members.append(user)
    return estate, members


def fund_seed(community: Community, cast: Cast, now: dt.datetime, counts: dict[str, int]) -> None:
    """The committee estate's fund: its officers, a year of income and the expenses."""
    found = _committee(community, cast.office)
    if found is None:
        return
    estate, (chair, keeper, bookkeeper) = found
    months = months_before(now)
    fund = Fund.objects.filter(estate=estate).first()
    if fund is None:
        fund = fund_create(
            actor=cast.office,
            estate=estate,
            name=f"{estate.name}自管委资金",
            keeper=keeper,
            bookkeeper=bookkeeper,
            annual_fee="120.00",
            now=local_time(months[0] + dt.timedelta(days=24), 10),
        )
        counts["funds"] += 1
    # The annual fee, collected door to door over the winter; most households pay.
    paid = set(
        FundEntry.objects.filter(fund=fund, kind=FundEntry.Kind.FEE).values_list(
            "household_id", flat=True
        )
    )
    season = months[1]
    for household in Household.objects.filter(unit__building__estate=estate).order_by("pk"):
        rng = random.Random(f"property-fund-fee-{household.pk}")
        if rng.random() > 0.72 or household.pk in paid:
            continue
        day = season + dt.timedelta(days=rng.randint(0, 110))
        fund_income_record(
            fund=fund,
            actor=keeper,
            kind=FundEntry.Kind.FEE,
            amount=fund.annual_fee,
            occurred_on=day,
            household=household,
            description=f"{day.year}年度自管费",
            now=local_time(day, 19),
        )
        counts["fund_entries"] += 1
    donor = "惠民便利店"
    if not FundEntry.objects.filter(
        fund=fund, kind=FundEntry.Kind.DONATION, payer_name=donor
    ).exists():
        day = season + dt.timedelta(days=45)
        fund_income_record(
            fund=fund,
            actor=bookkeeper,
            kind=FundEntry.Kind.DONATION,
            amount="2000.00",
            occurred_on=day,
            payer_name=donor,
            description="春节慰问捐赠",
            now=local_time(day, 15),
        )
        counts["fund_entries"] += 1
    for n, (purpose, amount, asked_on, outcome) in enumerate(EXPENSES):
        if ExpenseRequest.objects.filter(fund=fund, purpose=purpose).exists():
            continue
        asked = local_time(asked_on, 10)
        if asked >= now:
            continue
        requester = chair if outcome != "requested" else keeper
        approver = (keeper, bookkeeper)[n % 2] if requester == chair else chair
        expense = expense_request(
            fund=fund, actor=requester, purpose=purpose, amount=amount, now=asked
        )
        counts["expenses"] += 1
        if outcome == "requested":
            continue
        expense = expense_decide(
            expense=expense,
            actor=approver,
            approve=outcome != "rejected",
            note="与社区中秋活动重复，不予支出。" if outcome == "rejected" else "同意。",
            now=asked + dt.timedelta(days=1),
        )
        if outcome == "rejected":
            continue
        expense = expense_pay(
            expense=expense,
            actor=keeper,
            receipts=[_receipt()] if purpose == RECEIPT_FOR else None,
            now=asked + dt.timedelta(days=3, hours=4),
        )
        counts["fund_entries"] += 1
        if outcome == "booked":
            expense_book(expense=expense, actor=bookkeeper, now=asked + dt.timedelta(days=4))
