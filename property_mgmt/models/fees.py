"""Property fee bills per household and month, and the payments against them.

A bill's amount comes from the contract (area × standard, or the household rate). The
paid amount is cached on the bill and moved only with the bill row locked, next to the
payment row; the constraints keep it between zero and the amount.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from community.models import Building, Estate, Household
from property_mgmt.models.contracts import ServiceContract


class FeeBill(models.Model):
    """A household's property fee for one month (物业费账单)."""

    contract = models.ForeignKey(
        ServiceContract, on_delete=models.PROTECT, related_name="bills", verbose_name=_("contract")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="fee_bills", verbose_name=_("household")
    )
    # The household's building and estate, copied when billed: collection rates per
    # building, estate and month group by them without joining through units.
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="+", verbose_name=_("building")
    )
    estate = models.ForeignKey(
        Estate, on_delete=models.PROTECT, related_name="+", verbose_name=_("estate")
    )
    period = models.DateField(_("month"), help_text=_("the first day of the month billed"))
    amount = models.DecimalField(_("amount (RMB)"), max_digits=10, decimal_places=2)
    paid_amount = models.DecimalField(_("paid (RMB)"), max_digits=10, decimal_places=2, default=0)
    due_on = models.DateField(_("due on"))
    # Serve-first contracts: null until the building's satisfaction for the month reaches
    # the contract's threshold; a bill is payable only once released.
    payable_from = models.DateTimeField(_("payable from"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid in full at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fee bill")
        verbose_name_plural = _("fee bills")
        constraints = [
            models.UniqueConstraint(fields=["household", "period"], name="bill_once_per_month"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="bill_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0) & Q(paid_amount__lte=F("amount")),
                name="bill_paid_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(paid_at__isnull=True) | Q(paid_amount=F("amount")),
                name="bill_paid_at_only_when_paid",
            ),
        ]
        indexes = [
            # Covering (PostgreSQL): the collection rates of an estate's month or year are
            # read from the index alone (an index-only scan once vacuumed).
            models.Index(
                fields=["estate", "period", "building"],
                name="bill_estate_month",
                include=["amount", "paid_amount", "paid_at"],
            ),
            models.Index(fields=["contract", "period"], name="bill_contract_month"),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.period:%Y-%m}"


class FeePayment(models.Model):
    """Money received against a bill (cash or transfer), recorded by property staff or the
    office; rows are never edited (a mistake is a negative correction row by staff)."""

    class Method(models.TextChoices):
        CASH = "cash", _("cash")
        TRANSFER = "transfer", _("bank transfer")
        WECHAT = "wechat", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")

    class Source(models.TextChoices):
        MANUAL = "manual", _("recorded by hand")
        IMPORT = "import", _("Excel import")

    bill = models.ForeignKey(
        FeeBill, on_delete=models.PROTECT, related_name="payments", verbose_name=_("bill")
    )
    amount = models.DecimalField(_("amount (RMB)"), max_digits=10, decimal_places=2)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.MANUAL
    )
    reference = models.CharField(_("receipt or transfer number"), max_length=64, blank=True)
    paid_at = models.DateTimeField(_("paid at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fee payment")
        verbose_name_plural = _("fee payments")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="payment_amount_not_zero"),
            # An import run twice must not pay twice: a receipt number is used once per bill.
            models.UniqueConstraint(
                fields=["bill", "reference"],
                condition=~Q(reference=""),
                name="payment_reference_once_per_bill",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bill} {self.amount}"
