"""The clocks that run on a grievance, their events and extension requests."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from grievances.models.grievance import Grievance
from grievances.models.policies import SlaClockSpec, SlaPolicy


class SlaClock(models.Model):
    """One running promise on one grievance: the row the sweep and every page read."""

    class State(models.TextChoices):
        RUNNING = "running", _("running")
        PAUSED = "paused", _("paused")
        STOPPED = "stopped", _("stopped")
        CANCELLED = "cancelled", _("cancelled")

    grievance = models.ForeignKey(
        Grievance, on_delete=models.CASCADE, related_name="clocks", verbose_name=_("grievance")
    )
    kind = models.CharField(_("clock"), max_length=16, choices=SlaClockSpec.Kind.choices)
    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.PROTECT, related_name="+", verbose_name=_("policy")
    )
    # The spec as it was when the clock started (target, warning, calendar, triggers):
    # later edits of the policy never move a running promise.
    spec = models.JSONField(_("policy snapshot"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.RUNNING
    )
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"))
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    # When the next rung of the escalation ladder is due (set at breach).
    escalate_at = models.DateTimeField(_("escalate at"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    paused_total = models.DurationField(_("paused in total"), default=dt.timedelta)
    extensions = models.PositiveSmallIntegerField(_("extensions granted"), default=0)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)
    # When the clock stopped because its goal was met (on time or late).
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            # A reopened grievance starts new clocks; only one of a kind runs at a time.
            models.UniqueConstraint(
                fields=["grievance", "kind"],
                condition=Q(state__in=["running", "paused"]),
                name="slaclock_one_live_per_kind",
            ),
            models.CheckConstraint(
                condition=~Q(state="paused") | Q(paused_at__isnull=False),
                name="slaclock_paused_has_time",
            ),
        ]
        indexes = [
            # The sweep's three questions, each over running clocks only: a partial index
            # stays the size of the live work (50,000), not of every clock ever started.
            models.Index(
                fields=["due_at"],
                condition=Q(state="running", breached_at__isnull=True),
                name="slaclock_due_running",
            ),
            models.Index(
                fields=["warn_at"],
                condition=Q(state="running", warned_at__isnull=True, warn_at__isnull=False),
                name="slaclock_warn_running",
            ),
            models.Index(
                fields=["escalate_at"],
                condition=Q(state="running", escalate_at__isnull=False),
                name="slaclock_escalate_running",
            ),
            models.Index(fields=["grievance", "kind"], name="slaclock_grievance_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.grievance} · {self.get_kind_display()}"


class SlaEvent(models.Model):
    """A warning, breach or escalation of a clock: written exactly once each."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("warning")
        BREACH = "breach", _("breach")
        ESCALATION = "escalation", _("escalation")

    clock = models.ForeignKey(
        SlaClock, on_delete=models.CASCADE, related_name="events", verbose_name=_("clock")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(_("level"), default=0)
    # When it was due (the column's value), and when the sweep recorded it.
    due_at = models.DateTimeField(_("due at"))
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        constraints = [
            models.UniqueConstraint(
                fields=["clock", "kind", "level"], name="slaevent_once_per_clock_kind_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.clock} · {self.get_kind_display()} {self.level}"


class DeadlineExtension(models.Model):
    """A handler's request for more time on a clock (延期申请), decided by staff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    clock = models.ForeignKey(
        SlaClock,
        on_delete=models.CASCADE,
        related_name="extension_requests",
        verbose_name=_("clock"),
    )
    extra_minutes = models.PositiveIntegerField(_("extra minutes"), null=True, blank=True)
    extra_days = models.PositiveIntegerField(_("extra working days"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(_("requested at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")
        constraints = [
            models.UniqueConstraint(
                fields=["clock"], condition=Q(status="pending"), name="extension_one_pending"
            ),
            models.CheckConstraint(
                condition=Q(extra_minutes__gt=0) | Q(extra_days__gt=0),
                name="extension_asks_for_time",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_by__isnull=False),
                name="extension_decision_has_decider",
            ),
            # The handler cannot approve their own request.
            models.CheckConstraint(
                condition=~Q(decided_by=models.F("requested_by")),
                name="extension_decider_not_requester",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clock} +{self.extra_minutes or 0}m/{self.extra_days or 0}d"
