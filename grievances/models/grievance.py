"""The grievance, its category, dispatches, timeline, photos, ratings and cost shares."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from community.models import (
    Building,
    Community,
    Estate,
    Household,
    Organization,
    Resident,
    Unit,
)
from grievances.models.policies import SlaPolicy, Tier


class Category(models.Model):
    """A kind of problem (诉求类别), in two levels: 房屋维修 → 漏水."""

    class Handler(models.TextChoices):
        PROPERTY_COMPANY = "property_company", _("property company of the estate")
        COMMUNITY_OFFICE = "community_office", _("community office")
        ORGANIZATION = "organization", _("a named organization")

    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    default_handler = models.CharField(
        _("default handler"),
        max_length=20,
        choices=Handler.choices,
        default=Handler.COMMUNITY_OFFICE,
    )
    default_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default organization"),
    )
    # Null on a subcategory: its parent's policy.
    sla_policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="categories",
        verbose_name=_("SLA policy"),
    )
    default_tier = models.CharField(
        _("default tier"), max_length=16, choices=Tier.choices, default=Tier.ROUTINE
    )
    in_contract_scope = models.BooleanField(_("in the property contract's scope"), default=True)
    # Neighbour disputes and the like: never on a public list, never in Open311 GET.
    is_private = models.BooleanField(_("private"), default=False)
    # Open311 service definition attributes: [{"code", "datatype", "required",
    # "description", "values": [{"key", "name"}]}]; answers land in Grievance.attributes.
    attributes = models.JSONField(_("extra questions"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grievance category")
        verbose_name_plural = _("grievance categories")
        constraints = [
            models.CheckConstraint(
                condition=~Q(default_handler="organization")
                | Q(default_organization__isnull=False),
                name="category_org_handler_has_org",
            )
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} → {self.name}" if self.parent is not None else self.name


class Grievance(models.Model):
    """A problem reported by a resident, a grid worker, the hotline or the suggestion box."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        ACCEPTED = "accepted", _("accepted")
        DISPATCHED = "dispatched", _("dispatched")
        ON_SITE = "on_site", _("on site")
        WAITING = "waiting", _("waiting")
        RESOLVED = "resolved", _("resolved")
        CLOSED = "closed", _("closed")
        REJECTED = "rejected", _("rejected")
        MERGED = "merged", _("merged")
        REOPENED = "reopened", _("reopened")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("resident portal")
        GRID_WORKER = "grid_worker", _("grid worker")
        HOTLINE = "hotline", _("hotline")
        SUGGESTION_BOX = "suggestion_box", _("suggestion box")
        PATROL = "patrol", _("patrol or inspection")
        OPEN311 = "open311", _("Open311")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="grievances", verbose_name=_("community")
    )
    estate = models.ForeignKey(
        Estate, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("estate")
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("building")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("unit")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("household")
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="grievances", verbose_name=_("category")
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices)
    # The resident the problem is about / who reported it (null: anonymous, a finding on
    # patrol, a caller not in the registry). `submitted_by` is who typed it in: the
    # resident, or the grid worker / hotline staff acting on their behalf.
    reporter = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grievances",
        verbose_name=_("reporter"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grievances_submitted",
        verbose_name=_("submitted by"),
    )
    caller_name = models.CharField(_("caller's name"), max_length=50, blank=True)
    caller_phone = models.CharField(_("caller's phone"), max_length=20, blank=True)
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    # Copied from the category at intake (and never true for a private category).
    is_public = models.BooleanField(_("public"), default=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    # Answers to the category's extra questions (Open311 attributes).
    attributes = models.JSONField(_("extra answers"), default=dict, blank=True)
    handler_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grievances_handled",
        verbose_name=_("handling organization"),
    )
    handler_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grievances_handled",
        verbose_name=_("handler"),
    )
    # A steward (小巷管家) who led the resolution: a satisfied closure earns them points.
    steward = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grievances_led",
        verbose_name=_("steward"),
    )
    plan = models.TextField(_("plan"), blank=True)
    plan_due = models.DateField(_("plan completion date"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    waiting_reason = models.CharField(_("waiting for"), max_length=200, blank=True)
    # The status a grievance paused from (dispatched or on site): resuming returns there.
    waiting_from = models.CharField(
        _("paused from"), max_length=16, choices=Status.choices, blank=True
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged",
        verbose_name=_("merged into"),
    )
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # Where it came from outside this app: "patrol-log:12", an Open311 client's id …
    source_ref = models.CharField(_("source"), max_length=64, blank=True)
    # The API client's Idempotency-Key: a phone that files again after a dropped answer
    # gets the first grievance back instead of a second one (unique per submitter).
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grievance")
        verbose_name_plural = _("grievances")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="grievance_merged_has_target",
            ),
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="grievance_idempotency_key_once",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="grievance_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(is_anonymous=True) | Q(reporter__isnull=True),
                name="grievance_anonymous_has_no_reporter",
            ),
            models.CheckConstraint(
                condition=~Q(status="waiting") | (~Q(waiting_from="") & ~Q(waiting_reason="")),
                name="grievance_waiting_has_reason",
            ),
            # Choices hold in the database too (bulk writes and raw SQL skip full_clean).
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "submitted",
                        "accepted",
                        "dispatched",
                        "on_site",
                        "waiting",
                        "resolved",
                        "closed",
                        "rejected",
                        "merged",
                        "reopened",
                    ]
                ),
                name="grievance_status_known",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "status", "-submitted_at"], name="grv_comm_status"),
            # The duplicate warning: same category at the same building, recent first.
            models.Index(
                fields=["building", "category", "-submitted_at"], name="grv_building_category"
            ),
            models.Index(fields=["handler_organization", "status"], name="grv_handler_org"),
            models.Index(fields=["reporter", "-submitted_at"], name="grv_reporter"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class Dispatch(models.Model):
    """A grievance sent to an organization or a person (派单), and their answer."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for acceptance")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        TRANSFERRED = "transferred", _("transferred")
        WITHDRAWN = "withdrawn", _("withdrawn")
        # The work was done (the grievance resolved); a reopened grievance gets a new one.
        COMPLETED = "completed", _("completed")

    grievance = models.ForeignKey(
        Grievance, on_delete=models.CASCADE, related_name="dispatches", verbose_name=_("grievance")
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispatches",
        verbose_name=_("organization"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispatches",
        verbose_name=_("person"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    note = models.TextField(_("instructions"), blank=True)
    reason = models.TextField(_("reason"), blank=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dispatched by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    created_at = models.DateTimeField(_("dispatched at"))
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        constraints = [
            models.CheckConstraint(
                condition=Q(organization__isnull=False) | Q(assignee__isnull=False),
                name="dispatch_has_receiver",
            ),
            # One live dispatch per grievance: two receivers racing to accept is a bug.
            models.UniqueConstraint(
                fields=["grievance"],
                condition=Q(status__in=["pending", "accepted"]),
                name="dispatch_one_live_per_grievance",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["declined", "transferred"]) | ~Q(reason=""),
                name="dispatch_decline_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="dispatch_org_status"),
            models.Index(fields=["assignee", "status"], name="dispatch_assignee_status"),
        ]

    def __str__(self) -> str:
        return f"{self.grievance} → {self.organization or self.assignee}"


class TimelineEvent(models.Model):
    """One line of a grievance's story: who did what when, old → new (工单流转记录)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("filed")
        STATUS = "status", _("status changed")
        DISPATCHED = "dispatched", _("dispatched")
        DISPATCH_ACCEPTED = "dispatch_accepted", _("accepted by the handler")
        DISPATCH_DECLINED = "dispatch_declined", _("declined by the handler")
        TRANSFERRED = "transferred", _("transferred")
        CHECKED_IN = "checked_in", _("checked in on site")
        PROGRESS = "progress", _("progress")
        NOTE = "note", _("internal note")
        PLAN = "plan", _("plan")
        RESOLVED = "resolved", _("resolved")
        RATED = "rated", _("rated")
        REOPENED = "reopened", _("reopened")
        MERGED = "merged", _("merged")
        CLOCK = "clock", _("service clock")
        ESCALATED = "escalated", _("escalated")
        EXTENSION = "extension", _("deadline extension")
        PHOTO = "photo", _("photo")
        COST_SHARE = "cost_share", _("cost sharing")

    grievance = models.ForeignKey(
        Grievance, on_delete=models.CASCADE, related_name="timeline", verbose_name=_("grievance")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    on_behalf_of = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    old_value = models.CharField(_("from"), max_length=64, blank=True)
    new_value = models.CharField(_("to"), max_length=64, blank=True)
    note = models.TextField(_("note"), blank=True)
    # Internal notes are for the office and handlers; public updates are shown to the
    # reporter (and on the public list if the grievance is public).
    is_public = models.BooleanField(_("public"), default=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes = [models.Index(fields=["grievance", "at", "id"], name="timeline_grievance_at")]

    def __str__(self) -> str:
        return f"{self.grievance} · {self.get_kind_display()}"


class Attachment(models.Model):
    """A photo of a grievance, EXIF stripped, kept outside the web root."""

    class Kind(models.TextChoices):
        REPORT = "report", _("reported")
        CHECK_IN = "check_in", _("on site")
        PROGRESS = "progress", _("progress")
        AFTER = "after", _("after")

    grievance = models.ForeignKey(
        Grievance, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("grievance")
    )
    event = models.ForeignKey(
        TimelineEvent,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("timeline event"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Relative to settings.PRIVATE_STORAGE_ROOT; served only through a scoped view.
    file_path = models.CharField(_("stored file"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=32)
    size = models.PositiveIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return f"{self.grievance} · {self.get_kind_display()}"


class Rating(models.Model):
    """The reporter's verdict on a resolution (评价): solved or not, 1–5 stars."""

    grievance = models.ForeignKey(
        Grievance, on_delete=models.CASCADE, related_name="ratings", verbose_name=_("grievance")
    )
    # Which resolution it rates: the grievance's reopen_count when it was resolved.
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    solved = models.BooleanField(_("solved"))
    stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rated by"),
    )
    # True when nobody answered in time and the grievance closed by itself.
    automatic = models.BooleanField(_("closed without an answer"), default=False)
    created_at = models.DateTimeField(_("rated at"))

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.UniqueConstraint(fields=["grievance", "round"], name="rating_once_per_round"),
            models.CheckConstraint(
                condition=Q(stars__isnull=True) | Q(stars__gte=1, stars__lte=5),
                name="rating_stars_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grievance} · {self.stars or '-'}"


class CostShare(models.Model):
    """Work outside the property contract split among the households concerned (费用均摊)."""

    grievance = models.OneToOneField(
        Grievance, on_delete=models.CASCADE, related_name="cost_share", verbose_name=_("grievance")
    )
    description = models.CharField(_("what is paid for"), max_length=200)
    total = models.DecimalField(_("total (yuan)"), max_digits=10, decimal_places=2)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created at"))
    # Set when the last household has paid.
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("cost share")
        verbose_name_plural = _("cost shares")
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="costshare_total_positive")
        ]

    def __str__(self) -> str:
        return f"{self.grievance} · {self.total}"


class CostShareLine(models.Model):
    """One household's part of a cost share, and whether it has paid."""

    cost_share = models.ForeignKey(
        CostShare, on_delete=models.CASCADE, related_name="lines", verbose_name=_("cost share")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="+", verbose_name=_("household")
    )
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("cost share line")
        verbose_name_plural = _("cost share lines")
        constraints = [
            models.UniqueConstraint(
                fields=["cost_share", "household"], name="costshareline_household_once"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="costshareline_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.amount}"


class Open311Client(models.Model):
    """An application allowed to post requests through Open311 (an API key, 接入密钥)."""

    name = models.CharField(_("name"), max_length=100)
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="open311_clients",
        verbose_name=_("community"),
    )
    # Only a hash is kept; the key is shown once, when it is issued in the admin.
    key_prefix = models.CharField(_("key prefix"), max_length=8)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"
