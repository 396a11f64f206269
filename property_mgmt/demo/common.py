"""What every part of the property demo shares: its day, its months and its cast."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from accounts.models import User
from community.models import Community, Estate, Membership, Organization

Role = Membership.Role

#: The demo's "now": the same year of data whenever it is seeded.
DEMO_NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)


def local_time(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """`day` at `hour`:`minute` on the community's clock."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def months_before(now: dt.datetime, count: int = 12) -> list[dt.date]:
    """The first days of the `count` months before `now`'s month."""
    first = timezone.localdate(now).replace(day=1)
    months = []
    for back in range(count, 0, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        months.append(dt.date(year, month + 1, 1))
    return months


def _first_user(**membership: Any) -> User | None:
    return (
        User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            **{f"memberships__{k}": v for k, v in membership.items()},
        )
        .order_by("pk")
        .first()
    )


@dataclass
class Cast:
    office: User
    company: Organization | None
    company_estates: list[Estate]
    collector: User  # records the company's payments: its property staff, else the office
    committee_estates: list[Estate]  # no company (三无小区): the residents' committee serves


def cast_find(community: Community) -> Cast | None:
    """Who acts in the demo: the office, the one company and its estates, the collector."""
    office = _first_user(community=community, role__in=[Role.COMMUNITY_STAFF, Role.COMMUNITY_ADMIN])
    if office is None:
        return None
    estates = list(Estate.objects.filter(community=community).order_by("pk"))
    company_estates = [e for e in estates if e.property_company_id is not None]
    company = company_estates[0].property_company if company_estates else None
    # The demo's contracts are one company's: other companies' estates are left alone.
    if company is not None:
        company_estates = [e for e in company_estates if e.property_company_id == company.pk]
    collector = (
        _first_user(organization=company, role=Role.PROPERTY_STAFF) if company else None
    ) or office
    return Cast(
        office=office,
        company=company,
        company_estates=company_estates,
        collector=collector,
        committee_estates=[e for e in estates if e.property_company_id is None],
    )
