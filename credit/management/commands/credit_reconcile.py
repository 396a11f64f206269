"""`manage.py credit_reconcile`: prove the ledger adds up; exit 1 on any drift."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from credit.selectors import ledger_reconciliation


class Command(BaseCommand):
    help = "Check cached balances against entries and issued − spent − … = outstanding."

    def handle(self, *args: Any, **options: Any) -> None:
        report = ledger_reconciliation()
        self.stdout.write(f"accounts checked: {report.accounts_checked}")
        for name, value in report.flows.items():
            self.stdout.write(f"  {name:22s} {value:>12}")
        self.stdout.write(f"outstanding (balances): {report.outstanding_cached}")
        self.stdout.write(f"outstanding (flows):    {report.outstanding_expected}")
        for account_id, cached, from_entries in report.drifted[:50]:
            self.stderr.write(f"account {account_id}: cached {cached}, entries {from_entries}")
        if not report.ok:
            raise CommandError(f"ledger drift: {len(report.drifted)} account(s) differ")
        self.stdout.write(self.style.SUCCESS("ledger reconciles"))
