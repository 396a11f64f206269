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


# --- Manual awards and deductions (maker-checker) and appeals ---------------------------


class PointsRequest(models.Model):
    """A manual award or deduction (人工加扣分), made by one person, decided by another.

    An approved award is applied at once. An approved deduction is first notified to
    the resident and only applied when its appeal window has passed without an appeal,
    or when staff uphold it on appeal.
    """

    class Kind(models.TextChoices):
        AWARD = "award", _("award")
        DEDUCTION = "deduction", _("deduction")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for approval")
        REJECTED = "rejected", _("rejected")
        NOTIFIED = "notified", _("notified, appeal window open")
        APPEALED = "appealed", _("appealed")
        CANCELLED = "cancelled", _("cancelled on appeal")
        APPLIED = "applied", _("applied")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="points_requests",
        verbose_name=_("resident"),
    )
    rule = models.ForeignKey(
        ScoringRule, on_delete=models.PROTECT, related_name="+", verbose_name=_("rule version")
    )
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, default=1)
    reason = models.TextField(_("reason"))
    evidence_note = models.CharField(_("evidence"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)
    appeal_deadline = models.DateTimeField(_("appeal deadline"), null=True, blank=True)
    entry = models.OneToOneField(
        PointsEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="request",
        verbose_name=_("ledger entry"),
    )
    # The maker's `Idempotency-Key` (API): unique per maker, so a retry cannot ask twice.
    # NULL, not "", for "no key": the partial unique constraint below skips NULLs.
    idempotency_key = models.CharField(  # noqa: DJ001
        _("idempotency key"), max_length=100, null=True, blank=True, editable=False
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("points request")
        verbose_name_plural = _("points requests")
        constraints = [
            # Maker-checker: nobody approves their own request.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="request_maker_is_not_checker",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["notified", "appealed"])
                | Q(appeal_deadline__isnull=False),
                name="request_notified_has_deadline",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="request_quantity_positive"),
            # The maker's Idempotency-Key: a retried request returns the first one.
            models.UniqueConstraint(
                fields=["requested_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="request_idempotency_key_unique_per_maker",
            ),
        ]
        indexes = [models.Index(fields=["status", "appeal_deadline"], name="request_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.resident} · {self.rule.name}"


class Appeal(models.Model):
    """A resident's appeal against a notified deduction (申诉), decided by staff."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("deduction upheld")
        CANCELLED = "cancelled", _("deduction cancelled")

    request = models.OneToOneField(
        PointsRequest, on_delete=models.PROTECT, related_name="appeal", verbose_name=_("deduction")
    )
    text = models.TextField(_("appeal"))
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reasons"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | (Q(decided_by__isnull=False) & ~Q(decision_reason="")),
                name="appeal_decision_has_reasons",
            ),
        ]

    def __str__(self) -> str:
        return str(self.request)


# --- The credit supermarket (信用超市) ---------------------------------------------------


class SupermarketItem(models.Model):
    """Something residents exchange points for: goods, a course, a service."""

    class Kind(models.TextChoices):
        GOODS = "goods", _("goods")
        COURSE = "course", _("course")
        SERVICE = "service", _("service")

    class LimitPeriod(models.TextChoices):
        MONTH = "month", _("per month")
        QUARTER = "quarter", _("per quarter")
        YEAR = "year", _("per year")
        EVER = "ever", _("in total")

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="supermarket_items",
        verbose_name=_("community"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.GOODS)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    points_price = models.PositiveIntegerField(_("price in points"))
    # None: unlimited (a service); the check constraint is the last guard of "never below 0".
    stock = models.IntegerField(_("stock"), null=True, blank=True)
    limit_per_resident = models.PositiveIntegerField(_("limit per resident"), null=True, blank=True)
    limit_period = models.CharField(
        _("limit period"), max_length=10, choices=LimitPeriod.choices, default=LimitPeriod.MONTH
    )
    provider = models.ForeignKey(
        "community.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("provided by"),
    )
    is_active = models.BooleanField(_("on sale"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supermarket item")
        verbose_name_plural = _("supermarket items")
        constraints = [
            models.CheckConstraint(condition=Q(points_price__gt=0), name="item_price_positive"),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="item_stock_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExchangeWindow(models.Model):
    """When the supermarket exchanges (兑换日): e.g. the 6th of each month, 9:00–17:00."""

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="exchange_windows",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=100)
    always_open = models.BooleanField(_("always open"), default=False)
    day_of_month = models.PositiveSmallIntegerField(_("day of month"), null=True, blank=True)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("exchange window")
        verbose_name_plural = _("exchange windows")
        constraints = [
            models.CheckConstraint(
                condition=Q(always_open=True)
                | (
                    Q(opens_at__isnull=False, closes_at__isnull=False)
                    & Q(closes_at__gt=F("opens_at"))
                ),
                name="window_has_hours",
            ),
            models.CheckConstraint(
                condition=Q(day_of_month__isnull=True)
                | Q(day_of_month__gte=1, day_of_month__lte=31),
                name="window_day_of_month_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Redemption(models.Model):
    """A resident's exchange (兑换): points debited and the item reserved until pickup."""

    class Status(models.TextChoices):
        RESERVED = "reserved", _("reserved, to pick up")
        FULFILLED = "fulfilled", _("picked up")
        EXPIRED = "expired", _("expired, points returned")
        CANCELLED = "cancelled", _("cancelled, points returned")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("resident")
    )
    item = models.ForeignKey(
        SupermarketItem,
        on_delete=models.PROTECT,
        related_name="redemptions",
        verbose_name=_("item"),
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    points = models.PositiveIntegerField(_("points"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RESERVED
    )
    pickup_code = models.CharField(_("pickup code"), max_length=12, unique=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=150, unique=True)
    entry = models.OneToOneField(
        PointsEntry,
        on_delete=models.PROTECT,
        related_name="redemption",
        verbose_name=_("ledger entry"),
    )
    reserved_at = models.DateTimeField(_("reserved at"), default=timezone.now)
    expires_at = models.DateTimeField(_("pick up by"))
    fulfilled_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handed over by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="redemption_quantity_positive"
            ),
            models.CheckConstraint(
                condition=~Q(status="fulfilled") | Q(fulfilled_at__isnull=False),
                name="redemption_fulfilled_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="redemption_due"),
            models.Index(fields=["resident", "item", "reserved_at"], name="redemption_limits"),
        ]

    def __str__(self) -> str:
        return f"{self.item} × {self.quantity}"


# --- Garbage sorting (垃圾分类称重) -----------------------------------------------------


class GarbageWeighing(models.Model):
    """One visit to the weighing point: what a resident brought, and the points it earned."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="garbage_weighings",
        verbose_name=_("resident"),
    )
    weighed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("weighed by"),
    )
    weighed_at = models.DateTimeField(_("weighed at"), default=timezone.now)
    idempotency_key = models.CharField(_("idempotency key"), max_length=150, unique=True)

    class Meta:
        verbose_name = _("garbage weighing")
        verbose_name_plural = _("garbage weighings")

    def __str__(self) -> str:
        return f"{self.resident} {self.weighed_at:%Y-%m-%d}"


class GarbageWeighingLine(models.Model):
    """One category weighed at a visit (kg), under the per-kg rule of that category."""

    weighing = models.ForeignKey(
        GarbageWeighing, on_delete=models.PROTECT, related_name="lines", verbose_name=_("weighing")
    )
    rule = models.ForeignKey(
        ScoringRule, on_delete=models.PROTECT, related_name="+", verbose_name=_("category rule")
    )
    kg = models.DecimalField(_("kg"), max_digits=7, decimal_places=2)
    entry = models.OneToOneField(
        PointsEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="garbage_line",
        verbose_name=_("ledger entry"),
    )

    class Meta:
        verbose_name = _("weighed category")
        verbose_name_plural = _("weighed categories")
        constraints = [
            models.CheckConstraint(condition=Q(kg__gt=0), name="garbage_kg_positive"),
            models.UniqueConstraint(fields=["weighing", "rule"], name="garbage_one_line_per_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.name} {self.kg} kg"


# --- The red and grey list (红灰榜) -----------------------------------------------------


class BoardSnapshot(models.Model):
    """A published red/grey list for a period and area: computed, frozen, never edited.

    `rows` holds what the public sees and nothing more: surname + building (张** 3号楼),
    points, rank; the red list leaves out residents who opted out.
    """

    class Period(models.TextChoices):
        MONTH = "month", _("month")
        QUARTER = "quarter", _("quarter")
        YEAR = "year", _("year")

    class Area(models.TextChoices):
        COMMUNITY = "community", _("community")
        ESTATE = "estate", _("estate")
        BUILDING = "building", _("building")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="boards", verbose_name=_("community")
    )
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    area_kind = models.CharField(_("area"), max_length=10, choices=Area.choices)
    area_id = models.PositiveBigIntegerField(_("area id"))
    area_name = models.CharField(_("area name"), max_length=100)
    red_rows = models.JSONField(_("red list"), default=list)
    grey_rows = models.JSONField(_("grey list"), default=list)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("red and grey list")
        verbose_name_plural = _("red and grey lists")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "period", "period_start", "area_kind", "area_id"],
                name="board_one_per_period_and_area",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="board_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area_name} {self.period_start:%Y-%m}"


class RedListOptOut(models.Model):
    """A resident who asked not to be shown on the red list (隐私选择)."""

    resident = models.OneToOneField(
        Resident,
        on_delete=models.CASCADE,
        related_name="red_list_opt_out",
        verbose_name=_("resident"),
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("red list opt-out")
        verbose_name_plural = _("red list opt-outs")

    def __str__(self) -> str:
        return str(self.resident)


# --- Reconciliation checkpoint (对账检查点) ---------------------------------------------


class LedgerCheckpoint(models.Model):
    """Where the last passing reconciliation left off: the ledger added up to one entry.

    Entries with `id <= last_entry_id` are summed here (flows, count) and, per resident
    account, in `LedgerCheckpointBalance`; the next reconciliation adds only the newer
    entries to these sums and still compares every account's cached balance. There is
    one checkpoint (the check constraint): it is moved forward, never kept as history.
    """

    created_at = models.DateTimeField(_("written at"), default=timezone.now)
    last_entry_id = models.PositiveBigIntegerField(_("last entry included"))
    entries_count = models.PositiveBigIntegerField(_("entries included"))
    # The Reconciliation report's flows (per kind, and reversed per kind) up to the entry.
    flows = models.JSONField(_("flows"), default=dict)
    full = models.BooleanField(_("written by a full check"), default=False)
    full_at = models.DateTimeField(_("last full check"))

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="checkpoint_single_row"),
        ]

    def __str__(self) -> str:
        return f"#{self.last_entry_id}"


class LedgerCheckpointBalance(models.Model):
    """A resident account's balance at the checkpoint: its entries up to `last_entry_id`.

    An account without entries up to there has no row (its balance there is 0). The
    account is a plain key without a foreign-key constraint: checking one would take a
    key-share lock on account rows that every award and redemption locks for update, and
    only the reconciliation writes this table.
    """

    account = models.OneToOneField(
        PointsAccount,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_constraint=False,
        related_name="+",
        verbose_name=_("account"),
    )
    balance = models.IntegerField(_("balance"))

    class Meta:
        verbose_name = _("checkpoint balance")
        verbose_name_plural = _("checkpoint balances")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance}"
