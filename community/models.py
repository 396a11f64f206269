"""The people and places of a community, and who holds which role where.

Street (街道) → Community (社区) → Estate (小区) → Building (楼栋) → Unit (单元)
→ Household (户) → Resident. Grids (网格) group buildings for grid workers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from community.privacy import mask_phone


class Street(models.Model):
    """A sub-district office's area (街道)."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    """A residents' community (社区), run by the community office."""

    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="communities", verbose_name=_("street")
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    """An office, company or unit that acts in the community (组织/单位)."""

    class Kind(models.TextChoices):
        STREET_OFFICE = "street_office", _("street office")
        COMMUNITY_OFFICE = "community_office", _("community office")
        PROPERTY_COMPANY = "property_company", _("property company")
        PARTNER_UNIT = "partner_unit", _("partner unit")
        SOCIAL_ORGANIZATION = "social_organization", _("social organization")
        MERCHANT = "merchant", _("merchant")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    street = models.ForeignKey(
        Street,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        verbose_name=_("street"),
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        verbose_name=_("community"),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="organization_kind_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Estate(models.Model):
    """A residential estate (小区)."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="estates", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    property_company = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="estates_served",
        limit_choices_to={"kind": Organization.Kind.PROPERTY_COMPANY},
        verbose_name=_("property company"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("estate")
        verbose_name_plural = _("estates")
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="estate_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Grid(models.Model):
    """A grid (网格): the buildings one grid worker walks."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="grids", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="grid_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    """A building (楼栋), e.g. 3号楼."""

    estate = models.ForeignKey(
        Estate, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("estate")
    )
    number = models.CharField(_("building number"), max_length=20)
    grid = models.ForeignKey(
        Grid,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="buildings",
        verbose_name=_("grid"),
    )
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [
            models.UniqueConstraint(fields=["estate", "number"], name="building_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.estate.name} {self.number}"


class Unit(models.Model):
    """A stairwell / entrance of a building (单元)."""

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="units", verbose_name=_("building")
    )
    number = models.CharField(_("unit number"), max_length=20)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="unit_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.building} {self.number}"


class Household(models.Model):
    """A household (户): one flat, identified by its room number."""

    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="households", verbose_name=_("unit")
    )
    room = models.CharField(_("room"), max_length=20)
    area_m2 = models.DecimalField(
        _("floor area (m²)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.UniqueConstraint(fields=["unit", "room"], name="household_room_unique"),
            models.CheckConstraint(
                condition=Q(area_m2__isnull=True) | Q(area_m2__gt=0), name="household_area_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.room}"


#: The labels community offices keep on residents (from practice); staff may add more.
DEFAULT_RESIDENT_TAGS = (
    ("party-member", "党员"),
    ("unit-leader", "单元长"),
    ("building-leader", "楼长"),
    ("elderly-alone", "独居老人"),
    ("elderly-80", "80岁以上老人"),
    ("disabled", "残疾人"),
    ("low-income", "低保户"),
    ("veteran", "退役军人"),
    ("volunteer", "志愿者"),
    ("tenant", "租户"),
    ("special-care", "重点关爱"),
)


class ResidentTag(models.Model):
    """A label the office keeps on residents: party member, 楼长, elderly living alone …"""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("resident tag")
        verbose_name_plural = _("resident tags")

    def __str__(self) -> str:
        return self.name


class Resident(models.Model):
    """A person living in a household (居民). The national ID number is stored encrypted."""

    class Gender(models.TextChoices):
        MALE = "male", _("male")
        FEMALE = "female", _("female")

    class Relation(models.TextChoices):
        HEAD = "head", _("head of household")
        SPOUSE = "spouse", _("spouse")
        CHILD = "child", _("child")
        PARENT = "parent", _("parent")
        GRANDCHILD = "grandchild", _("grandchild")
        GRANDPARENT = "grandparent", _("grandparent")
        SIBLING = "sibling", _("sibling")
        TENANT = "tenant", _("tenant")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("living here")
        MOVED_OUT = "moved_out", _("moved out")
        DECEASED = "deceased", _("deceased")

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="residents", verbose_name=_("household")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident",
        verbose_name=_("login account"),
    )
    name = models.CharField(_("name"), max_length=50, db_index=True)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    # The ID number itself is never stored in clear: ciphertext for the rare authorised
    # reveal, a keyed hash for lookup and uniqueness, and the masked form for display.
    id_number_ciphertext = models.TextField(_("ID number (encrypted)"), blank=True, editable=False)
    id_number_hash = models.CharField(
        _("ID number hash"), max_length=64, null=True, blank=True, unique=True, editable=False
    )
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    relation_to_head = models.CharField(
        _("relation to head"), max_length=16, choices=Relation.choices, default=Relation.HEAD
    )
    tags = models.ManyToManyField(
        ResidentTag, blank=True, related_name="residents", verbose_name=_("tags")
    )
    moved_in_on = models.DateField(_("moved in on"), null=True, blank=True)
    moved_out_on = models.DateField(_("moved out on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords(m2m_fields=[tags])

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        constraints = [
            models.CheckConstraint(
                condition=Q(moved_out_on__isnull=True)
                | Q(moved_in_on__isnull=True)
                | Q(moved_out_on__gte=models.F("moved_in_on")),
                name="resident_moved_out_after_in",
            ),
            models.CheckConstraint(
                condition=~Q(status="moved_out") | Q(moved_out_on__isnull=False),
                name="resident_moved_out_has_date",
            ),
            # Choices hold in the database too (imports and bulk writes skip full_clean).
            models.CheckConstraint(
                condition=Q(status__in=["active", "moved_out", "deceased"]),
                name="resident_status_known",
            ),
            models.CheckConstraint(
                condition=Q(gender__in=["", "male", "female"]), name="resident_gender_known"
            ),
            models.CheckConstraint(
                condition=Q(
                    relation_to_head__in=[
                        "head",
                        "spouse",
                        "child",
                        "parent",
                        "grandchild",
                        "grandparent",
                        "sibling",
                        "tenant",
                        "other",
                    ]
                ),
                name="resident_relation_known",
            ),
            # The lookup hash and the ciphertext are written together (one ID number) or
            # not at all: a hash without a number, or a number no lookup finds, is a bug.
            models.CheckConstraint(
                condition=Q(id_number_hash__isnull=True, id_number_ciphertext="")
                | (Q(id_number_hash__isnull=False) & ~Q(id_number_ciphertext="")),
                name="resident_id_hash_with_ciphertext",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class Membership(models.Model):
    """A user's role in an organization or an area (任职): what they may see and do."""

    class Role(models.TextChoices):
        COMMUNITY_ADMIN = "community_admin", _("community admin")
        COMMUNITY_STAFF = "community_staff", _("community staff")
        STREET_SUPERVISOR = "street_supervisor", _("street supervisor")
        GRID_WORKER = "grid_worker", _("grid worker")
        PROPERTY_STAFF = "property_staff", _("property staff")
        PARTNER_STAFF = "partner_staff", _("partner unit staff")
        SUPERMARKET_CLERK = "supermarket_clerk", _("supermarket clerk")
        COMMITTEE_MEMBER = "committee_member", _("committee member")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("street")
    )
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("community")
    )
    estate = models.ForeignKey(
        Estate, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("estate")
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("grid")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        # Each role names the area it covers; a role without its area would see nothing
        # (or, worse, be "fixed" later by code that guesses).
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=["community_admin", "community_staff", "supermarket_clerk"])
                | Q(community__isnull=False),
                name="membership_community_role_has_community",
            ),
            models.CheckConstraint(
                condition=~Q(role="street_supervisor") | Q(street__isnull=False),
                name="membership_supervisor_has_street",
            ),
            models.CheckConstraint(
                condition=~Q(role="grid_worker") | Q(grid__isnull=False),
                name="membership_grid_worker_has_grid",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=["property_staff", "partner_staff"])
                | Q(organization__isnull=False),
                name="membership_org_role_has_organization",
            ),
            models.CheckConstraint(
                condition=~Q(role="committee_member") | Q(estate__isnull=False),
                name="membership_committee_has_estate",
            ),
        ]
        indexes = [models.Index(fields=["user", "is_active"], name="membership_user_active")]

    def __str__(self) -> str:
        area = self.grid or self.estate or self.community or self.street or self.organization
        return f"{self.user} · {self.get_role_display()} · {area}"


class ServiceContact(models.Model):
    """An entry in the service directory (便民服务电话): water, heating, telecom …"""

    class Category(models.TextChoices):
        WATER = "water", _("water")
        POWER = "power", _("electricity")
        GAS = "gas", _("gas")
        HEATING = "heating", _("heating")
        TELECOM = "telecom", _("telecom and internet")
        ENFORCEMENT = "enforcement", _("urban management and enforcement")
        POLICE = "police", _("police")
        HEALTH = "health", _("health")
        OTHER = "other", _("other")

    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="service_contacts",
        verbose_name=_("community"),
        help_text=_("Leave empty for a contact that serves the whole street."),
    )
    street = models.ForeignKey(
        Street,
        on_delete=models.CASCADE,
        related_name="service_contacts",
        verbose_name=_("street"),
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=30)
    hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service contact")
        verbose_name_plural = _("service directory")

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """An Excel import of the residents registry (台账导入): upload, preview, confirm, apply.

    Rows are checked first (the preview); only a clean preview may be confirmed, and the
    confirmed file is written in one transaction, all rows or none. The status moves only
    along `services.IMPORT_JOB_TRANSITIONS`. Progress while a job runs is kept in the
    cache, not here: the apply transaction would hide it from everyone else until commit.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        VALIDATING = "validating", _("checking rows")
        PREVIEW = "preview", _("ready to confirm")
        INVALID = "invalid", _("has errors")
        APPLYING = "applying", _("importing")
        DONE = "done", _("imported")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="resident_imports",
        verbose_name=_("uploaded by"),
    )
    # The uploader's community when they work in exactly one: colleagues see the job too.
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resident_imports",
        verbose_name=_("community"),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    original_name = models.CharField(_("file name"), max_length=255)
    # Relative to settings.PRIVATE_STORAGE_ROOT (never under MEDIA); emptied once the
    # file is deleted, because it holds whole ID numbers.
    file_path = models.CharField(_("stored file"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    new_count = models.PositiveIntegerField(_("new residents"), default=0)
    update_count = models.PositiveIntegerField(_("updated residents"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    new_unit_count = models.PositiveIntegerField(_("new units"), default=0)
    new_household_count = models.PositiveIntegerField(_("new households"), default=0)
    # [{"row": 5, "column": "手机号", "code": "bad_phone", "params": {...}}]: codes, not
    # sentences, so the page shows them in the reader's language; never a whole ID number.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # What the preview shows besides errors: sample rows (masked) and units/rooms to create.
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("resident import")
        verbose_name_plural = _("resident imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "uploaded",
                        "validating",
                        "preview",
                        "invalid",
                        "applying",
                        "done",
                        "failed",
                        "cancelled",
                    ]
                ),
                name="importjob_status_known",
            ),
            # A job offered for confirmation has no errors.
            models.CheckConstraint(
                condition=~Q(status="preview") | Q(error_count=0),
                name="importjob_preview_has_no_errors",
            ),
        ]
        indexes = [
            models.Index(fields=["uploaded_by", "created_at"], name="importjob_user_created")
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.status in (
            self.Status.UPLOADED,
            self.Status.VALIDATING,
            self.Status.APPLYING,
        )
