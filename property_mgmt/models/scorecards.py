"""Scorecards per provider and period, the rules that put a provider on the black list
(挂黑榜), and the list's entries: proposed by the rules, confirmed by staff with evidence,
answered by the provider, removed on the record."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from community.models import Community, Organization


class Scorecard(models.Model):
    """A provider's figures for a period in a community, computed from surveys, grievances
    and fees; a published scorecard is a snapshot and never recomputed."""

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="property_scorecards",
        verbose_name=_("community"),
    )
    provider = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="scorecards",
        verbose_name=_("provider"),
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    households = models.PositiveIntegerField(_("households served"))
    satisfaction = models.DecimalField(
        _("satisfaction (average 1–5)"), max_digits=3, decimal_places=2, null=True, blank=True
    )
    survey_answers = models.PositiveIntegerField(_("survey answers"), default=0)
    on_time_rate = models.DecimalField(
        _("SLA on-time rate"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    reopen_rate = models.DecimalField(
        _("reopen rate"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    complaints = models.PositiveIntegerField(_("complaints"), default=0)
    complaints_per_1000 = models.DecimalField(
        _("complaints per 1,000 households"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    collection_rate = models.DecimalField(
        _("fee collection rate"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "provider", "period_start", "period_end"],
                name="scorecard_once_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.period_start}–{self.period_end}"


class BlacklistRule(models.Model):
    """A threshold that proposes a provider for the black list, e.g. satisfaction below
    3.0, on-time rate below 0.8, complaints above 50 per 1,000 households."""

    class Metric(models.TextChoices):
        SATISFACTION = "satisfaction", _("satisfaction")
        ON_TIME_RATE = "on_time_rate", _("SLA on-time rate")
        REOPEN_RATE = "reopen_rate", _("reopen rate")
        COMPLAINTS_PER_1000 = "complaints_per_1000", _("complaints per 1,000 households")
        COLLECTION_RATE = "collection_rate", _("fee collection rate")

    class Comparison(models.TextChoices):
        BELOW = "below", _("below")
        ABOVE = "above", _("above")

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="blacklist_rules",
        verbose_name=_("community"),
    )
    metric = models.CharField(_("metric"), max_length=24, choices=Metric.choices)
    comparison = models.CharField(_("comparison"), max_length=8, choices=Comparison.choices)
    threshold = models.DecimalField(_("threshold"), max_digits=8, decimal_places=4)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("black-list rule")
        verbose_name_plural = _("black-list rules")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "metric", "comparison"], name="blacklist_rule_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.get_comparison_display()} {self.threshold}"


class BlacklistEntry(models.Model):
    """A provider on (or proposed for) the black list of a community (挂黑榜)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        LISTED = "listed", _("on the black list")
        DISMISSED = "dismissed", _("dismissed")
        REMOVED = "removed", _("removed")

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="blacklist_entries",
        verbose_name=_("community"),
    )
    provider = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="blacklist_entries",
        verbose_name=_("provider"),
    )
    scorecard = models.ForeignKey(
        Scorecard,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="blacklist_entries",
        verbose_name=_("scorecard"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    reasons = models.TextField(_("reasons"), help_text=_("shown on the public board"))
    evidence = models.TextField(_("evidence"), blank=True)
    proposed_at = models.DateTimeField(_("proposed at"))
    listed_at = models.DateTimeField(_("listed at"), null=True, blank=True)
    listed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("listed by"),
    )
    response = models.TextField(_("provider's response"), blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responded by"),
    )
    closed_at = models.DateTimeField(_("removed or dismissed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removed or dismissed by"),
    )
    close_reason = models.TextField(_("reason for removal"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("black-list entry")
        verbose_name_plural = _("black-list entries")
        constraints = [
            # One live entry per provider and community: a second proposal while one is
            # pending or listed would list the company twice.
            models.UniqueConstraint(
                fields=["community", "provider"],
                condition=Q(status__in=["proposed", "listed"]),
                name="blacklist_one_live_entry",
            ),
            models.CheckConstraint(
                condition=~Q(status="listed") | Q(listed_at__isnull=False, listed_by__isnull=False),
                name="blacklist_listed_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["removed", "dismissed"])
                | Q(closed_at__isnull=False, closed_by__isnull=False),
                name="blacklist_closed_has_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} · {self.get_status_display()}"
