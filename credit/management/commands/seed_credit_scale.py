"""`manage.py seed_credit_scale --entries N`: a large made-up ledger for benchmarks.

Runs after `seed_scale`: gives every resident of the scale community an account and
spreads N entries over them (awards under the standard's rules, some redemptions), one
account much busier than the rest (the "account with the most entries" the benchmark
reads too). Rows go in with `bulk_create`, bypassing the services for speed, but
consistently: every account's cached balance equals its entries, so `credit_reconcile`
passes on scale data.

Idempotent-ish: with N entries or more already in the community it does nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from community.management.commands.seed_scale import BENCH_PASSWORD, COMMUNITY_CODE
from community.models import Community, Resident
from credit.models import PointsAccount, PointsEntry
from credit.services.ledger import system_account
from credit.services.rules import rule_for, standard_install

BATCH = 10_000
#: The resident login of the busiest account: the benchmark reads "my balance" as it.
RESIDENT_PHONE = "13900000002"
BUSY_SHARE = 0.005  # the busiest account holds this share of all entries
RULE_CODES = ("volunteer-hour", "garbage-recyclables-kg", "kitchen-waste-kg", "fee-on-time")


class Command(BaseCommand):
    help = "Bulk-create a large points ledger on the seed_scale community (benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entries", type=int, default=1_000_000)

    def handle(self, *args: Any, entries: int, **options: Any) -> None:
        started = time.monotonic()
        community = Community.objects.filter(code=COMMUNITY_CODE).first()
        if community is None:
            raise CommandError("run `manage.py seed_scale` first")
        have = PointsEntry.objects.filter(community=community).count()
        if have >= entries:
            self.stdout.write(f"nothing to do: {have} entries already")
            return
        standard_install(street=community.street, valid_from=dt.date(2025, 1, 1))
        rules = [rule_for(community=community, code=code) for code in RULE_CODES]
        issuance = system_account(community_id=community.pk, kind=PointsAccount.Kind.ISSUANCE)
        market = system_account(community_id=community.pk, kind=PointsAccount.Kind.SUPERMARKET)
        resident_ids = list(
            Resident.objects.filter(household__unit__building__estate__community=community)
            .order_by("id")
            .values_list("id", flat=True)
        )
        existing = set(
            PointsAccount.objects.filter(resident_id__in=resident_ids).values_list(
                "resident_id", flat=True
            )
        )
        PointsAccount.objects.bulk_create(
            [
                PointsAccount(kind=PointsAccount.Kind.RESIDENT, community=community, resident_id=r)
                for r in resident_ids
                if r not in existing
            ],
            batch_size=BATCH,
        )
        accounts = list(
            PointsAccount.objects.filter(resident_id__in=resident_ids)
            .order_by("id")
            .values_list("id", flat=True)
        )
        rng = random.Random(20261123)
        busy = accounts[0]
        busy_share = max(BUSY_SHARE, 10 / len(accounts))  # busiest even on small data
        balances: dict[int, int] = {}
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        todo = entries - have
        made = 0
        with transaction.atomic(durable=True):
            while made < todo:
                batch: list[PointsEntry] = []
                for _ in range(min(BATCH, todo - made)):
                    account = busy if rng.random() < busy_share else rng.choice(accounts)
                    when = start + dt.timedelta(minutes=rng.randrange(0, 460_000))
                    serial = have + made + len(batch)
                    balance = balances.get(account, 0)
                    if balance >= 30 and rng.random() < 0.15:
                        amount = rng.choice((10, 15, 20, 30))
                        balances[account] = balance - amount
                        batch.append(
                            PointsEntry(
                                kind=PointsEntry.Kind.REDEMPTION,
                                debit_account_id=account,
                                credit_account=market,
                                amount=amount,
                                community=community,
                                idempotency_key=f"scale:{serial}",
                                created_at=when,
                            )
                        )
                        continue
                    rule = rng.choice(rules)
                    amount = rule.points * rng.randint(1, 4)
                    balances[account] = balance + amount
                    batch.append(
                        PointsEntry(
                            kind=PointsEntry.Kind.AWARD,
                            debit_account=issuance,
                            credit_account_id=account,
                            amount=amount,
                            community=community,
                            rule=rule,
                            idempotency_key=f"scale:{serial}",
                            created_at=when,
                        )
                    )
                PointsEntry.objects.bulk_create(batch, batch_size=BATCH)
                made += len(batch)
            # Cached balances recomputed from the entries in one statement.
            PointsAccount.objects.filter(pk__in=accounts).update(
                balance=_sum_of("credit_account") - _sum_of("debit_account")
            )
        _resident_login(busy)
        if connection.vendor == "postgresql":
            # Fresh statistics: without them the planner walks all entries for a page.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE credit_pointsentry; ANALYZE credit_pointsaccount;")
        took = time.monotonic() - started
        self.stdout.write(
            f"created {made} entries over {len(balances)} accounts in {took:.1f}s "
            f"(busiest account id {busy})"
        )


def _resident_login(account_id: int) -> None:
    """Link a login (RESIDENT_PHONE / the bench password) to the busiest account's resident."""
    resident = PointsAccount.objects.select_related("resident").get(pk=account_id).resident
    user = User.objects.filter(phone=RESIDENT_PHONE).first() or User.objects.create_user(
        RESIDENT_PHONE, BENCH_PASSWORD, name="压测居民"
    )
    if resident is not None and resident.user_id is None:
        Resident.objects.filter(user=user).update(user=None)
        resident.user = user
        resident.save(update_fields=["user"])


def _sum_of(side: str) -> Any:
    total = (
        PointsEntry.objects.filter(**{side: OuterRef("pk")})
        .values(side)
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(total), Value(0))
