"""`manage.py credit_reconcile [--full]`: prove the ledger adds up; exit 1 on any drift."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credit.services.reconciliation import ledger_reconciliation


class Command(BaseCommand):
    help = (
        "Check every cached balance against its entries and issued − spent − … = outstanding "
        "(from the last checkpoint; --full adds up every entry)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full",
            action="store_true",
            help="add up every entry instead of starting from the checkpoint",
        )

    def handle(self, *args: Any, full: bool, **options: Any) -> None:
        report = ledger_reconciliation(full=full)
        if report.full:
            self.stdout.write("full check: every entry added up")
        else:
            self.stdout.write(
                f"incremental check: checkpoint at entry {report.since_entry_id} "
                f"+ {report.new_entries} newer entries"
            )
        self.stdout.write(f"accounts checked: {report.accounts_checked}")
        for name, value in report.flows.items():
            self.stdout.write(f"  {name:22s} {value:>12}")
        self.stdout.write(f"outstanding (balances): {report.outstanding_cached}")
        self.stdout.write(f"outstanding (flows):    {report.outstanding_expected}")
        for account_id, cached, from_entries in report.drifted[:50]:
            self.stderr.write(f"account {account_id}: cached {cached}, entries {from_entries}")
        if not report.ok:
            hint = "" if report.full else "; run with --full to tell the checkpoint from the ledger"
            raise CommandError(
                f"ledger drift: {len(report.drifted)} account(s) differ, no checkpoint written"
                + hint
            )
        if report.checkpoint_entry_id is not None:
            self.stdout.write(f"checkpoint moved to entry {report.checkpoint_entry_id}")
        self.stdout.write(self.style.SUCCESS("ledger reconciles"))
