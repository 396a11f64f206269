"""SLA policies, their clock specs and the working-day calendar (DESIGN §5)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Tier(models.TextChoices):
    """How big a job is: which of the policy's clocks apply (1715 and the repair tiers)."""

    ROUTINE = "routine", _("routine (solve within the hour)")
    COMPLEX = "complex", _("complex (plan within a day)")
    REPAIR_MINOR = "repair_minor", _("minor repair")
    REPAIR_MEDIUM = "repair_medium", _("medium repair")
    REPAIR_MAJOR = "repair_major", _("major repair")


class Trigger(models.TextChoices):
    """What happens to a grievance that may start, stop or pause a clock."""

    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("accepted by the office")
    DISPATCH_ACCEPTED = "dispatch_accepted", _("accepted by the handler")
    ON_SITE = "on_site", _("handler on site")
    PLAN_SUBMITTED = "plan_submitted", _("plan submitted")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    REJECTED = "rejected", _("rejected")
    MERGED = "merged", _("merged")
    REOPENED = "reopened", _("reopened")


class SlaPolicy(models.Model):
    """A named set of service promises (服务承诺), e.g. 1715 or the repair tiers."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class SlaClockSpec(models.Model):
    """One clock of a policy: its target, warning point, calendar and triggers."""

    class Kind(models.TextChoices):
        ARRIVE = "arrive", _("arrive on site")
        RESOLVE = "resolve", _("resolve")
        PLAN = "plan", _("plan")
        REPAIR_MINOR = "repair_minor", _("minor repair")
        REPAIR_MEDIUM = "repair_medium", _("medium repair")
        REPAIR_MAJOR = "repair_major", _("major repair")

    class Calendar(models.TextChoices):
        # Short clocks (10 minutes on site) run around the clock; day-granular ones may
        # count working days, skipping holidays and counting 调休 make-up days.
        CONTINUOUS = "continuous", _("24×7")
        WORKING_DAYS = "working_days", _("working days")

    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.CASCADE, related_name="specs", verbose_name=_("policy")
    )
    kind = models.CharField(_("clock"), max_length=16, choices=Kind.choices)
    # Blank: the clock applies to every grievance; otherwise only to grievances of that tier.
    tier = models.CharField(_("only for tier"), max_length=16, choices=Tier.choices, blank=True)
    calendar = models.CharField(
        _("calendar"), max_length=16, choices=Calendar.choices, default=Calendar.CONTINUOUS
    )
    # Continuous clocks count minutes; working-day clocks count whole working days.
    target_minutes = models.PositiveIntegerField(_("target (minutes)"), null=True, blank=True)
    target_days = models.PositiveIntegerField(_("target (working days)"), null=True, blank=True)
    warn_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of target)"), default=80, help_text=_("0 for no warning")
    )
    start_on = models.CharField(_("starts on"), max_length=20, choices=Trigger.choices)
    # A list of Trigger values.
    stop_on = models.JSONField(_("stops on"), default=list)
    pauses_while_waiting = models.BooleanField(_("pauses while waiting"), default=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(fields=["policy", "kind"], name="slaclockspec_one_per_kind"),
            models.CheckConstraint(
                condition=(Q(calendar="continuous") & Q(target_minutes__gt=0))
                | (Q(calendar="working_days") & Q(target_days__gt=0)),
                name="slaclockspec_target_fits_calendar",
            ),
            models.CheckConstraint(
                condition=Q(warn_percent__lte=100), name="slaclockspec_warn_percent_max_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} · {self.get_kind_display()}"


class CalendarDay(models.Model):
    """A staff override of the holiday calendar: a holiday, or a 调休 make-up workday.

    The built-in calendar (the `chinese-calendar` package) knows the State Council's
    published holidays; this table wins over it, for a year the package does not know
    yet or a local arrangement.
    """

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=50, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
