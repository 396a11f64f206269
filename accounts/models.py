from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from accounts.phone import normalize_phone, validate_mobile


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **extra: Any) -> User:
        phone = normalize_phone(phone)
        validate_mobile(phone)
        user = self.model(phone=phone, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(phone, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(phone=normalize_phone(username or ""))


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: office staff, grid worker, resident, property staff (用户)."""

    phone = models.CharField(
        _("mobile number"), max_length=11, unique=True, validators=[validate_mobile]
    )
    name = models.CharField(_("name"), max_length=50, blank=True)
    # Optional: the e-mail notification backend writes to it when it is set.
    email = models.EmailField(_("e-mail address"), blank=True)
    is_staff = models.BooleanField(
        _("admin access"),
        default=False,
        help_text=_("Whether the user may log in to the management back office."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "phone"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        from accounts.phone import mask_phone

        return f"{self.name or _('user')} ({mask_phone(self.phone)})"

    def clean(self) -> None:
        super().clean()
        self.phone = normalize_phone(self.phone)

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class Notification(models.Model):
    """A message in a user's inbox (站内消息): written with the change it tells about.

    The inbox row is the record; SMS, e-mail and the like are extra deliveries of it
    (NotificationDelivery), sent after the caller's transaction commits.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    kind = models.CharField(
        _("kind"), max_length=50, blank=True, help_text=_("A short code, e.g. grievance.escalated.")
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    ref = models.CharField(
        _("reference"),
        max_length=200,
        blank=True,
        help_text=_("What the notification is about; a user gets one notification per reference."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            # The idempotency of notify(): an SLA sweep that runs twice, or two workers
            # that escalate the same event at once, still leave one message per person.
            models.UniqueConstraint(
                fields=["user", "ref"], condition=~Q(ref=""), name="notification_once_per_ref"
            ),
        ]
        indexes = [
            # The inbox page: a user's messages, newest first.
            models.Index(fields=["user", "-id"], name="notification_inbox"),
            # The badge on every page and the "unread" filter: small, only unread rows.
            models.Index(
                fields=["user", "-id"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def local_link(self) -> str:
        """The link if it is a path on this site ("/..."), else "" (never an open redirect)."""
        link = self.link
        if not link.startswith("/") or link.startswith("//"):
            return ""
        # Also refuses "/\evil.example" (browsers read it as //evil.example) and controls.
        if not url_has_allowed_host_and_scheme(link, allowed_hosts=None):
            return ""
        return link


class NotificationDelivery(models.Model):
    """One sending of a notification through an external backend (SMS, e-mail, console)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        SKIPPED = "skipped", _("skipped (no address)")
        FAILED = "failed", _("failed")

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("notification"),
    )
    backend = models.CharField(_("backend"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempted_at = models.DateTimeField(_("attempted at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("notification delivery")
        verbose_name_plural = _("notification deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "backend"], name="notification_delivery_once"
            ),
        ]
        indexes = [
            # The sweep that sends deliveries whose after-commit task never ran.
            models.Index(
                fields=["id"], condition=Q(status="pending"), name="notification_delivery_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.backend}: {self.get_status_display()}"
