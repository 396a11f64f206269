"""Providers and their service contracts per estate (物业服务合同)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from community.models import Estate, Organization


class ProviderProfile(models.Model):
    """What the community knows of a provider (an Organization of kind property company):
    a company, possibly a "red property" (红色物业) with its own party branch, or the
    residents' own self-management (自治物业 / 自管委), modelled the same way."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("property company")
        SELF_MANAGED = "self_managed", _("self-run property (自治物业)")
        COMMITTEE = "committee", _("self-management committee (自管委)")

    organization = models.OneToOneField(
        Organization,
        on_delete=models.CASCADE,
        related_name="provider_profile",
        limit_choices_to={"kind": Organization.Kind.PROPERTY_COMPANY},
        verbose_name=_("organization"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMPANY)
    is_red_property = models.BooleanField(_("red property (红色物业)"), default=False)
    party_branch = models.CharField(_("party branch"), max_length=200, blank=True)
    hotline = models.CharField(_("hotline"), max_length=20, blank=True)
    contacts = models.TextField(_("contacts"), blank=True, help_text=_("one per line"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("provider profile")
        verbose_name_plural = _("provider profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(is_red_property=False) | ~Q(party_branch=""),
                name="provider_red_property_has_branch",
            )
        ]

    def __str__(self) -> str:
        return str(self.organization)


class ServiceContract(models.Model):
    """A provider's contract for an estate: period, fee standard, scope, billing mode and
    the promises it makes (e.g. 1715). One contract per estate at a time (the services
    check overlaps under a lock on the estate)."""

    class FeeBasis(models.TextChoices):
        PER_M2 = "per_m2", _("RMB per m² per month")
        PER_HOUSEHOLD = "per_household", _("RMB per household per month")

    class BillingMode(models.TextChoices):
        NORMAL = "normal", _("normal")
        # 先服务后收费: a period's bills become payable only once the building's
        # satisfaction for the period reaches the threshold.
        SERVE_FIRST = "serve_first", _("serve first, charge after satisfaction")

    provider = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="service_contracts",
        limit_choices_to={"kind": Organization.Kind.PROPERTY_COMPANY},
        verbose_name=_("provider"),
    )
    estate = models.ForeignKey(
        Estate, on_delete=models.PROTECT, related_name="service_contracts", verbose_name=_("estate")
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    fee_basis = models.CharField(
        _("fee basis"), max_length=16, choices=FeeBasis.choices, default=FeeBasis.PER_M2
    )
    fee_standard = models.DecimalField(_("fee standard (RMB)"), max_digits=8, decimal_places=2)
    billing_mode = models.CharField(
        _("billing mode"), max_length=16, choices=BillingMode.choices, default=BillingMode.NORMAL
    )
    serve_first_threshold = models.DecimalField(
        _("satisfaction threshold"),
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("average overall rating (1–5) a building must reach in serve-first mode"),
    )
    due_days = models.PositiveSmallIntegerField(
        _("days to pay"), default=30, help_text=_("a bill is due this many days after its month")
    )
    scope_categories = models.ManyToManyField(
        "grievances.Category",
        blank=True,
        related_name="service_contracts",
        verbose_name=_("grievance categories in scope"),
    )
    promises = models.TextField(_("service promises"), blank=True, help_text=_("e.g. 1715"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[scope_categories])

    class Meta:
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="contract_period_positive"
            ),
            models.CheckConstraint(
                condition=Q(fee_standard__gte=0), name="contract_fee_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(billing_mode="serve_first")
                | Q(serve_first_threshold__gte=1, serve_first_threshold__lte=5),
                name="contract_serve_first_has_threshold",
            ),
        ]
        indexes = [models.Index(fields=["estate", "starts_on"], name="contract_estate_start")]

    def __str__(self) -> str:
        return f"{self.provider} · {self.estate} ({self.starts_on}–{self.ends_on})"
