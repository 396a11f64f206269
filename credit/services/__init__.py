"""Every write of the credit app. Other apps call these, never the models."""

from credit.services.ledger import (
    account_for,
    points_award,
    points_deduct,
    points_reverse,
    points_spend,
    system_account,
)
from credit.services.reconciliation import (
    Reconciliation,
    ledger_reconcile_scheduled,
    ledger_reconciliation,
)
from credit.services.rules import rule_for, rule_revise, standard_install

__all__ = [
    "Reconciliation",
    "account_for",
    "ledger_reconcile_scheduled",
    "ledger_reconciliation",
    "points_award",
    "points_deduct",
    "points_reverse",
    "points_spend",
    "rule_for",
    "rule_revise",
    "standard_install",
    "system_account",
]
