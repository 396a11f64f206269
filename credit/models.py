"""Integrity points (诚信积分): the scoring standard and the ledger (DESIGN §4).

The ledger is double-entry: every entry moves a positive amount from one account to
another (an award from the community's issuance account to a resident, a redemption
from a resident to the supermarket). Entries are append-only: a mistake is undone by a
reversal entry that points at the original. Resident accounts cache their balance,
updated in the same transaction as the entry under the account's row lock; system
accounts do not (they would be a lock every award in the community queues on), and
`credit_reconcile` computes theirs from the entries.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from community.models import Community, Resident, Street


class ScoringRule(models.Model):
    """One version of a rule of the scoring standard (评定标准条目).

    Editing a rule makes a new version; entries keep the version they were awarded under.
    A rule with no community is the street-wide default; a community rule with the same
    code overrides it there.
    """

    class Category(models.TextChoices):
        VOLUNTEERING = "volunteering", _("volunteering")
        ENVIRONMENT = "environment", _("environment and garbage sorting")
        NEIGHBOURLINESS = "neighbourliness", _("neighbourliness and mediation")
        FEES = "fees", _("fees and contracts")
        CIVILITY = "civility", _("civility")
        MISCONDUCT = "misconduct", _("misconduct")

    class Unit(models.TextChoices):
        EVENT = "event", _("per event")
        HOUR = "hour", _("per hour")
        KG = "kg", _("per kg")

    class Evidence(models.TextChoices):
        PHOTO = "photo", _("photo")
        SIGN_IN = "sign_in", _("sign-in record")
        STAFF_NOTE = "staff_note", _("staff note")
        NONE = "none", _("none")

    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="scoring_rules", verbose_name=_("street")
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scoring_rules",
        verbose_name=_("community"),
        help_text=_("Empty for the street-wide default."),
    )
    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current version"), default=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    points = models.IntegerField(_("points per unit"))
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.EVENT)
    cap_day = models.PositiveIntegerField(_("cap per day"), null=True, blank=True)
    cap_month = models.PositiveIntegerField(_("cap per month"), null=True, blank=True)
    cap_year = models.PositiveIntegerField(_("cap per year"), null=True, blank=True)
    awarder_roles = models.JSONField(_("who may award it"), default=list, blank=True)
    evidence = models.CharField(
        _("evidence required"), max_length=12, choices=Evidence.choices, default=Evidence.NONE
    )
    description = models.TextField(_("description"), blank=True)
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring standard")
        constraints = [
            models.UniqueConstraint(
                fields=["street", "code", "version"],
                condition=Q(community__isnull=True),
                name="rule_street_code_version_unique",
            ),
            models.UniqueConstraint(
                fields=["community", "code", "version"],
                condition=Q(community__isnull=False),
                name="rule_community_code_version_unique",
            ),
            # Exactly one current version of a code per street default / community.
            models.UniqueConstraint(
                fields=["street", "code"],
                condition=Q(community__isnull=True, is_current=True),
                name="rule_street_code_current_unique",
            ),
            models.UniqueConstraint(
                fields=["community", "code"],
                condition=Q(community__isnull=False, is_current=True),
                name="rule_community_code_current_unique",
            ),
            # Misconduct deducts, everything else awards; a rule worth nothing is a mistake.
            models.CheckConstraint(
                condition=Q(category="misconduct", points__lt=0)
                | (~Q(category="misconduct") & Q(points__gt=0)),
                name="rule_points_sign_matches_category",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="rule_valid_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.points:+d}/{self.get_unit_display()})"


class PointsAccount(models.Model):
    """A points account (积分账户): one per resident, and a community's system accounts."""

    class Kind(models.TextChoices):
        RESIDENT = "resident", _("resident")
        ISSUANCE = "issuance", _("issuance")
        SUPERMARKET = "supermarket", _("credit supermarket")
        EXPIRED = "expired", _("expired points")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="points_accounts",
        verbose_name=_("community"),
    )
    resident = models.OneToOneField(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points_account",
        verbose_name=_("resident"),
    )
    # Cached sum of the resident account's entries; the row lock guards it, the check
    # constraint below is the last guard against overspending.
    balance = models.IntegerField(_("balance"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="resident", resident__isnull=False)
                | (~Q(kind="resident") & Q(resident__isnull=True)),
                name="account_resident_iff_resident_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind="resident") | Q(balance__gte=0),
                name="account_resident_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(kind="resident") | Q(balance=0),
                name="account_system_balance_not_cached",
            ),
            models.UniqueConstraint(
                fields=["community", "kind"],
                condition=~Q(kind="resident"),
                name="account_one_system_account_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return str(self.resident) if self.resident_id else self.get_kind_display()


class PointsEntry(models.Model):
    """One movement of points (积分流水). Append-only: corrected by a reversal, never edited."""

    class Kind(models.TextChoices):
        AWARD = "award", _("award")
        DEDUCTION = "deduction", _("deduction")
        REDEMPTION = "redemption", _("redemption")
        EXPIRY = "expiry", _("expiry")
        REVERSAL = "reversal", _("reversal")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    debit_account = models.ForeignKey(
        PointsAccount,
        on_delete=models.PROTECT,
        related_name="debits",
        verbose_name=_("from account"),
    )
    credit_account = models.ForeignKey(
        PointsAccount,
        on_delete=models.PROTECT,
        related_name="credits",
        verbose_name=_("to account"),
    )
    amount = models.PositiveIntegerField(_("points"))
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    rule = models.ForeignKey(
        ScoringRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("rule version"),
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    # Replaying a key returns the first entry and changes nothing (DESIGN §4).
    idempotency_key = models.CharField(_("idempotency key"), max_length=150, unique=True)
    # One reversal per entry at most: the unique one-to-one is the last guard.
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
        verbose_name=_("reverses"),
    )
    source_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_id = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    on_behalf_of = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="entry_amount_positive"),
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")), name="entry_accounts_differ"
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="entry_reversal_points_at_original",
            ),
        ]
        indexes = [
            # A resident's history, newest first, from either side of the entry.
            models.Index(fields=["credit_account", "-id"], name="entry_credit_history"),
            models.Index(fields=["debit_account", "-id"], name="entry_debit_history"),
            # Caps: a resident's awards under a rule in a period.
            models.Index(fields=["credit_account", "rule", "created_at"], name="entry_caps"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"
