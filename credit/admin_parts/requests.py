"""Admin classes of this part of the credit app (imported by credit/admin.py)."""
