"""Self-managed funds (自管委资金): "one keeps the money, one keeps the books".

A fund per estate with a keeper (管钱) and a bookkeeper (管账), never the same person.
Income and expenses are entries, append-only (a correction is a new entry pointing at the
one it corrects). An expense is requested with quotes or receipts, approved by a
committee member other than the requester, paid by the keeper (the entry is written then,
with the fund row locked, so the balance never goes below zero) and booked by the
bookkeeper.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from community.models import Estate, Household


class Fund(models.Model):
    """An estate's self-managed fund; `balance` is the sum of its entries, cached."""

    estate = models.OneToOneField(
        Estate, on_delete=models.PROTECT, related_name="fund", verbose_name=_("estate")
    )
    name = models.CharField(_("name"), max_length=100)
    keeper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("keeper (管钱)"),
    )
    bookkeeper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("bookkeeper (管账)"),
    )
    annual_fee = models.DecimalField(
        _("annual fee per household (RMB)"), max_digits=8, decimal_places=2, default=0
    )
    balance = models.DecimalField(_("balance (RMB)"), max_digits=12, decimal_places=2, default=0)
    history = HistoricalRecords(excluded_fields=["balance"])

    class Meta:
        verbose_name = _("self-managed fund")
        verbose_name_plural = _("self-managed funds")
        constraints = [
            models.CheckConstraint(
                condition=~Q(keeper=F("bookkeeper")), name="fund_keeper_is_not_bookkeeper"
            ),
            models.CheckConstraint(condition=Q(balance__gte=0), name="fund_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class ExpenseRequest(models.Model):
    """A request to spend from the fund (支出申请): requested → approved → paid → booked, or
    rejected."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        PAID = "paid", pgettext_lazy("expense status", "paid")  # 已支付, not a bill's 已缴
        BOOKED = "booked", _("booked")

    fund = models.ForeignKey(
        Fund, on_delete=models.PROTECT, related_name="expense_requests", verbose_name=_("fund")
    )
    purpose = models.CharField(_("purpose"), max_length=200)
    amount = models.DecimalField(_("amount (RMB)"), max_digits=10, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved or rejected by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paid by"),
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked by"),
    )
    booked_at = models.DateTimeField(_("booked at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("expense request")
        verbose_name_plural = _("expense requests")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive"),
            # Nobody approves their own request (the second person of 两人管钱).
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="expense_not_decided_by_requester",
            ),
            models.CheckConstraint(
                condition=Q(status="requested") | Q(decided_by__isnull=False),
                name="expense_decided_has_decider",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["paid", "booked"]) | Q(paid_by__isnull=False),
                name="expense_paid_has_payer",
            ),
            models.CheckConstraint(
                condition=~Q(status="booked") | Q(booked_by__isnull=False),
                name="expense_booked_has_bookkeeper",
            ),
            models.CheckConstraint(
                condition=Q(booked_by__isnull=True) | ~Q(booked_by=F("paid_by")),
                name="expense_booked_by_other_than_payer",
            ),
        ]
        indexes = [models.Index(fields=["fund", "status"], name="expense_fund_status")]

    def __str__(self) -> str:
        return f"{self.purpose} ({self.amount})"


class ExpenseAttachment(models.Model):
    """A quote or receipt photo of an expense request, checked and stripped of EXIF like a
    grievance photo, kept outside the web root."""

    class Kind(models.TextChoices):
        QUOTE = "quote", _("quote")
        RECEIPT = "receipt", _("receipt")

    expense = models.ForeignKey(
        ExpenseRequest,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("expense"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    file_path = models.CharField(_("stored file"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=40)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("expense attachment")
        verbose_name_plural = _("expense attachments")

    def __str__(self) -> str:
        return f"{self.expense} · {self.get_kind_display()}"


class FundEntry(models.Model):
    """An income or expense of the fund (收支流水); append-only. `amount` is signed: income
    positive, expense negative; a correction is a new entry pointing at the one it
    corrects."""

    class Kind(models.TextChoices):
        FEE = "fee", _("annual fee")
        DONATION = "donation", _("donation")
        OTHER_INCOME = "other_income", _("other income")
        EXPENSE = "expense", _("expense")
        CORRECTION = "correction", _("correction")

    fund = models.ForeignKey(
        Fund, on_delete=models.PROTECT, related_name="entries", verbose_name=_("fund")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    amount = models.DecimalField(_("amount (RMB)"), max_digits=12, decimal_places=2)
    balance_after = models.DecimalField(_("balance after"), max_digits=12, decimal_places=2)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("household"),
    )
    payer_name = models.CharField(_("from"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=200)
    occurred_on = models.DateField(_("date"))
    expense = models.OneToOneField(
        ExpenseRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entry",
        verbose_name=_("expense request"),
    )
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        verbose_name=_("corrects"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("fund entry")
        verbose_name_plural = _("fund entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="fund_entry_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="fund_entry_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["fee", "donation", "other_income"]) | Q(amount__gt=0),
                name="fund_income_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind="expense") | Q(amount__lt=0, expense__isnull=False),
                name="fund_expense_negative_with_request",
            ),
            models.CheckConstraint(
                condition=~Q(kind="correction") | Q(corrects__isnull=False),
                name="fund_correction_points_at_entry",
            ),
        ]
        indexes = [models.Index(fields=["fund", "occurred_on"], name="fund_entry_month")]

    def __str__(self) -> str:
        return f"{self.fund} {self.occurred_on} {self.amount}"
