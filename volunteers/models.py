"""Volunteer rosters (志愿服务): teams, posts, party members reporting in, activities,
sign-ups, attendance and no-show blocks (DESIGN §2, issue 5).

Hours become points only through credit's services (volunteers sits above credit). The
invariants that matter under load live in the database: an activity's signed-up count
never exceeds its capacity, one active sign-up per volunteer and activity, one
attendance per sign-up, nobody confirms their own hours, one open block per volunteer.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from community.models import Community, Resident


class Team(models.Model):
    """A volunteer team of a community: 小巷管家 stewards, a patrol, a service team …"""

    class Kind(models.TextChoices):
        STEWARD = "steward", _("lane stewards")
        PATROL = "patrol", _("patrol team")
        WOMENS_PATROL = "womens_patrol", _("women's patrol team")
        WATCH = "watch", _("watch team")
        SERVICE = "service", _("service team")
        CULTURAL = "cultural", _("cultural team")
        OTHER = "other", _("other team")

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="volunteer_teams",
        verbose_name=_("community"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_volunteer_teams",
        verbose_name=_("leader"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="team_name_unique"),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "steward",
                        "patrol",
                        "womens_patrol",
                        "watch",
                        "service",
                        "cultural",
                        "other",
                    ]
                ),
                name="team_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    """A member of a team: a resident, a user, or an outside person (an in-service party
    member from a partner unit, 下沉党员) known by name, employer and party branch."""

    class Role(models.TextChoices):
        LEADER = "leader", _("leader")
        MEMBER = "member", _("member")

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="members", verbose_name=_("team")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_memberships",
        verbose_name=_("user"),
    )
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_memberships",
        verbose_name=_("resident"),
    )
    name = models.CharField(_("name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    party_branch = models.CharField(_("party branch"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(_("joined at"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            # Somebody must be named: a login, a registered resident, or an outside person.
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(resident__isnull=False) | ~Q(name=""),
                name="team_member_identified",
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=F("joined_at")),
                name="team_member_left_after_joined",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["leader", "member"]), name="team_member_role_known"
            ),
            models.UniqueConstraint(
                fields=["team", "user"],
                condition=Q(left_at__isnull=True, user__isnull=False),
                name="team_member_user_once",
            ),
            models.UniqueConstraint(
                fields=["team", "resident"],
                condition=Q(left_at__isnull=True, resident__isnull=False),
                name="team_member_resident_once",
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(self.resident or self.user)


class Post(models.Model):
    """A public-service post of a community (公益岗位) that volunteers take (定岗定责)."""

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="volunteer_posts",
        verbose_name=_("community"),
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    duties = models.TextField(_("duties"), blank=True)
    schedule = models.TextField(_("schedule"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("public-service post")
        verbose_name_plural = _("public-service posts")
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="post_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class PartyMemberRegistration(models.Model):
    """An in-service party member reporting to the community (下沉党员报到)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        CONFIRMED = "confirmed", _("confirmed")
        DECLINED = "declined", _("declined")

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="party_member_registrations",
        verbose_name=_("community"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="party_member_registrations",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20)
    employer = models.CharField(_("employer"), max_length=100)
    party_branch = models.CharField(_("party branch"), max_length=100)
    skills = models.TextField(_("skills"), blank=True)
    free_hours = models.CharField(_("free hours"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    post = models.ForeignKey(
        Post,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
        verbose_name=_("post"),
    )
    duties = models.TextField(_("duties"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("party member registration")
        verbose_name_plural = _("party member registrations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "confirmed", "declined"]),
                name="party_registration_status_known",
            ),
            # A confirmed registration says who confirmed it.
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_by__isnull=False),
                name="party_registration_confirmed_has_confirmer",
            ),
            # One registration per member and community waiting or standing; a
            # declined one may be followed by a new one.
            models.UniqueConstraint(
                fields=["user", "community"],
                condition=Q(status__in=["pending", "confirmed"]),
                name="party_registration_one_live_per_community",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.employer}"


class Activity(models.Model):
    """An activity or shift volunteers sign up for: a patrol shift, a Saturday service day,
    a cleanup, a round of home visits."""

    class Kind(models.TextChoices):
        PATROL = "patrol", _("patrol shift")
        SERVICE_DAY = "service_day", _("service day")
        CLEANUP = "cleanup", _("cleanup")
        HOME_VISIT = "home_visit", _("home visits")
        OTHER = "other", _("other activity")

    class Audience(models.TextChoices):
        OPEN = "open", _("anyone in the community")
        TEAM = "team", _("members of the team")
        PARTY = "party", _("party members reporting in")

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="volunteer_activities",
        verbose_name=_("community"),
    )
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    place = models.CharField(_("place"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("team"),
    )
    post = models.ForeignKey(
        Post,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("post"),
    )
    capacity = models.PositiveIntegerField(_("capacity"))
    # Kept by the sign-up services under the activity's row lock; the check constraint
    # below is the last guard that capacity is never exceeded.
    signed_up_count = models.PositiveIntegerField(_("signed up"), default=0, editable=False)
    signup_open = models.BooleanField(_("sign-up open"), default=True)
    audience = models.CharField(
        _("who may sign up"), max_length=8, choices=Audience.choices, default=Audience.OPEN
    )
    checkin_opens_minutes = models.PositiveIntegerField(
        _("check-in opens (minutes before start)"), default=30
    )
    checkout_closes_minutes = models.PositiveIntegerField(
        _("check-out closes (minutes after end)"), default=60
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("volunteer activity")
        verbose_name_plural = _("volunteer activities")
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="activity_capacity_positive"),
            models.CheckConstraint(
                condition=Q(signed_up_count__lte=F("capacity")),
                name="activity_capacity_not_exceeded",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="activity_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["patrol", "service_day", "cleanup", "home_visit", "other"]),
                name="activity_kind_known",
            ),
            models.CheckConstraint(
                condition=Q(audience__in=["open", "party"])
                | Q(audience="team", team__isnull=False),
                name="activity_audience_known",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "starts_at"], name="activity_community_start"),
            # Shifts not over yet (a volunteer's shifts, a leader's activities).
            models.Index(fields=["ends_at"], name="activity_ends"),
        ]

    def __str__(self) -> str:
        return self.title


class SignUp(models.Model):
    """A volunteer's sign-up for an activity: a place, or a place on the waiting list."""

    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", _("signed up")
        WAITING = "waiting", _("on the waiting list")
        CANCELLED = "cancelled", _("cancelled")

    ACTIVE = (Status.SIGNED_UP, Status.WAITING)

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="signups", verbose_name=_("activity")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="volunteer_signups",
        verbose_name=_("volunteer"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    # Order on the waiting list; the first waiting is promoted when a place frees up.
    position = models.PositiveIntegerField(_("waiting list position"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    promoted_at = models.DateTimeField(_("promoted at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        constraints = [
            # Nobody holds two active sign-ups for one activity, even when two requests race.
            models.UniqueConstraint(
                fields=["activity", "user"],
                condition=Q(status__in=["signed_up", "waiting"]),
                name="signup_active_once",
            ),
            models.UniqueConstraint(
                fields=["activity", "position"],
                condition=Q(status="waiting"),
                name="signup_waiting_position_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["signed_up", "waiting", "cancelled"]),
                name="signup_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(status="waiting") | Q(position__isnull=False),
                name="signup_waiting_has_position",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="signup_cancelled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.activity}"


class Attendance(models.Model):
    """Who came to an activity and for how long; hours count once a second person confirms."""

    signup = models.OneToOneField(
        SignUp, on_delete=models.PROTECT, related_name="attendance", verbose_name=_("sign-up")
    )
    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("activity")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="volunteer_attendances",
        verbose_name=_("volunteer"),
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2, null=True, blank=True)
    corrected_hours = models.DecimalField(
        _("corrected hours"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("corrected by"),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    no_show = models.BooleanField(_("no-show"), default=False)
    created_at = models.DateTimeField(_("created at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [
            # Hours are confirmed by a second person (the leader or staff), never the volunteer.
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("user")),
                name="attendance_not_self_confirmed",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True, confirmed_at__isnull=True)
                | Q(confirmed_by__isnull=False, confirmed_at__isnull=False),
                name="attendance_confirmation_complete",
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True)
                | Q(checked_in_at__isnull=False, checked_out_at__gte=F("checked_in_at")),
                name="attendance_out_after_in",
            ),
            models.CheckConstraint(
                condition=Q(no_show=False) | Q(checked_in_at__isnull=True),
                name="attendance_no_show_not_checked_in",
            ),
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | Q(hours__gte=0), name="attendance_hours_positive"
            ),
            models.CheckConstraint(
                condition=Q(corrected_hours__isnull=True) | Q(corrected_hours__gte=0),
                name="attendance_corrected_hours_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.activity}"

    @property
    def counted_hours(self) -> Decimal | None:
        """The leader's correction when there is one, else the hours from check-in/out."""
        return self.corrected_hours if self.corrected_hours is not None else self.hours


class NoShowBlock(models.Model):
    """Sign-up blocked after too many no-shows, until staff lift it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="volunteer_blocks",
        verbose_name=_("volunteer"),
    )
    no_shows = models.PositiveIntegerField(_("no-shows"))
    blocked_at = models.DateTimeField(_("blocked at"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("no-show block")
        verbose_name_plural = _("no-show blocks")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(lifted_at__isnull=True), name="no_show_block_open_once"
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | Q(lifted_by__isnull=False),
                name="no_show_block_lifted_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.blocked_at:%Y-%m-%d}"


class ServiceRecord(models.Model):
    """What a service day did and for whom: haircuts 23, knives sharpened 40 …"""

    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        related_name="service_records",
        verbose_name=_("activity"),
    )
    item = models.CharField(_("service"), max_length=100)
    count = models.PositiveIntegerField(_("count"))
    beneficiaries = models.TextField(_("for whom"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=1), name="service_record_count_positive"),
            models.CheckConstraint(condition=~Q(item=""), name="service_record_item_named"),
        ]

    def __str__(self) -> str:
        return f"{self.item} × {self.count}"


class PatrolLog(models.Model):
    """A patrol's log: the route walked, when, and what was found on the way."""

    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="patrol_logs", verbose_name=_("team")
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patrol_logs",
        verbose_name=_("activity"),
    )
    route = models.CharField(_("route"), max_length=200)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    findings = models.TextField(_("findings"), blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("logged by"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("patrol log")
        verbose_name_plural = _("patrol logs")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gte=F("started_at")), name="patrol_log_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["team", "started_at"], name="patrol_log_team_start")]

    def __str__(self) -> str:
        return f"{self.team} · {self.route}"


class PatrolFinding(models.Model):
    """One thing a patrol found; it may become a grievance (through the grievances app)."""

    log = models.ForeignKey(
        PatrolLog, on_delete=models.CASCADE, related_name="finding_items", verbose_name=_("log")
    )
    description = models.TextField(_("description"))
    building = models.ForeignKey(
        "community.Building",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("building"),
    )
    category = models.ForeignKey(
        "grievances.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    # Set once the finding is filed; "+" keeps grievances from knowing about volunteers.
    grievance = models.OneToOneField(
        "grievances.Grievance",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("grievance"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("patrol finding")
        verbose_name_plural = _("patrol findings")

    def __str__(self) -> str:
        return self.description[:40]


class Award(models.Model):
    """An honour staff award (优秀党员, 身边好人 …), optionally with points."""

    class Title(models.TextChoices):
        PARTY_MEMBER = "party_member", _("outstanding party member")
        UNIT_HEAD = "unit_head", _("outstanding unit head")
        GOOD_NEIGHBOUR = "good_neighbour", _("good person next door")
        VOLUNTEER = "volunteer", _("outstanding volunteer")
        OTHER = "other", _("other title")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="awards", verbose_name=_("community")
    )
    title = models.CharField(_("title"), max_length=16, choices=Title.choices)
    title_other = models.CharField(_("other title"), max_length=100, blank=True)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="awards",
        verbose_name=_("recipient (user)"),
    )
    recipient_resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="awards",
        verbose_name=_("recipient (resident)"),
    )
    recipient_name = models.CharField(_("recipient name"), max_length=50, blank=True)
    citation = models.TextField(_("citation"), blank=True)
    # The points the ledger actually awarded with the honour (None: no points).
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("awarded by"),
    )
    awarded_at = models.DateTimeField(_("awarded at"))
    is_public = models.BooleanField(_("shown on the honour roll"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    title__in=["party_member", "unit_head", "good_neighbour", "volunteer", "other"]
                ),
                name="award_title_known",
            ),
            # "Other" says which title.
            models.CheckConstraint(
                condition=~Q(title="other") | ~Q(title_other=""), name="award_other_title_named"
            ),
            models.CheckConstraint(
                condition=Q(recipient_user__isnull=False)
                | Q(recipient_resident__isnull=False)
                | ~Q(recipient_name=""),
                name="award_recipient_identified",
            ),
        ]
        indexes = [models.Index(fields=["community", "awarded_at"], name="award_community_date")]

    def __str__(self) -> str:
        return f"{self.title_display} · {self.recipient_display}"

    @property
    def title_display(self) -> str:
        """The chosen title, or the text of an "other" title."""
        return self.title_other if self.title == self.Title.OTHER else self.get_title_display()

    @property
    def recipient_display(self) -> str:
        """The recipient's full name (not masked: mask it where it is shown publicly)."""
        if self.recipient_name:
            return self.recipient_name
        if self.recipient_resident_id is not None:
            return self.recipient_resident.name  # type: ignore[union-attr]
        user = self.recipient_user
        return (user.get_full_name() or user.get_username()) if user is not None else ""


class StewardInvitation(models.Model):
    """Staff invite a resident (often a frequent complainant) to join a team (小巷管家)."""

    class Status(models.TextChoices):
        INVITED = "invited", _("invited")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="steward_invitations",
        verbose_name=_("community"),
    )
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="steward_invitations",
        verbose_name=_("resident"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="invitations", verbose_name=_("team")
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("invited by"),
    )
    note = models.TextField(_("reason"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.INVITED
    )
    created_at = models.DateTimeField(_("invited at"))
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    member = models.ForeignKey(
        TeamMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team member"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("steward invitation")
        verbose_name_plural = _("steward invitations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["invited", "accepted", "declined"]),
                name="steward_invitation_status_known",
            ),
            models.CheckConstraint(
                condition=Q(status="invited", decided_at__isnull=True)
                | (~Q(status="invited") & Q(decided_at__isnull=False)),
                name="steward_invitation_decided_has_time",
            ),
            models.UniqueConstraint(
                fields=["team", "resident"],
                condition=Q(status="invited"),
                name="steward_invitation_open_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident} → {self.team}"
