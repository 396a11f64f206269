"""Every read of the credit app that pages, APIs and other apps use."""

from credit.selectors.ledger import account_history, account_visible

__all__ = ["account_history", "account_visible"]
