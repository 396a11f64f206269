"""Every read of the credit app that pages, APIs and other apps use."""

from credit.selectors.ledger import (
    Reconciliation,
    account_history,
    account_visible,
    ledger_reconciliation,
)

__all__ = ["Reconciliation", "account_history", "account_visible", "ledger_reconciliation"]
