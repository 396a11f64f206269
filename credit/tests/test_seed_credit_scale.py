from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from credit.models import PointsEntry
from credit.services.reconciliation import ledger_reconciliation

pytestmark = pytest.mark.django_db


def test_scale_ledger_is_consistent_and_has_a_busiest_account() -> None:
    call_command("seed_scale", residents=120, stdout=StringIO())
    call_command("seed_credit_scale", entries=1500, stdout=StringIO())
    assert PointsEntry.objects.count() == 1500
    report = ledger_reconciliation()
    assert report.ok, report
    counts = sorted(
        PointsEntry.objects.filter(credit_account__kind="resident")
        .values("credit_account")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert counts[-1] > 2 * counts[len(counts) // 2]  # one account far busier than most
    busiest = (
        PointsEntry.objects.filter(credit_account__kind="resident")
        .values("credit_account", "credit_account__resident__user__phone")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    assert busiest is not None
    assert busiest["credit_account__resident__user__phone"] == "13900000002"
    out = StringIO()
    call_command("seed_credit_scale", entries=1500, stdout=out)
    assert "nothing to do" in out.getvalue()
