"""Writes of the notification system: notify, deliver, mark read.

A notification is first a row in the user's inbox, written in the caller's transaction:
if the escalation (or whatever it tells about) rolls back, so does the message. The
external deliveries (SMS, e-mail, console) are rows too, written with it as "pending",
and sent by a task queued after commit: never inside a transaction (DESIGN §3), and a
backend that fails is recorded and logged, never raised to the caller.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.text import Truncator

from accounts.models import Notification, NotificationDelivery, User

logger = logging.getLogger(__name__)

Status = NotificationDelivery.Status

#: Allowed moves of a delivery. "sending" is claimed by compare-and-set, so a task that runs
#: twice (acks_late redelivery, the pending sweep) never sends the same SMS twice; a worker
#: that dies while sending leaves it "sending" (at most once: better than twice for SMS).
DELIVERY_TRANSITIONS: dict[str, set[str]] = {
    Status.PENDING: {Status.SENDING},
    Status.SENDING: {Status.SENT, Status.SKIPPED, Status.FAILED},
}

#: A pending delivery older than this was missed by its after-commit task (broker down,
#: process killed between commit and enqueue): the periodic sweep sends it.
PENDING_GRACE = dt.timedelta(minutes=5)
PENDING_BATCH = 500


def _recipients(users: Iterable[User]) -> list[User]:
    """Each active user once, in the order given."""
    seen: set[int] = set()
    recipients = []
    for user in users:
        if user is None or user.pk is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        recipients.append(user)
    return recipients


def _create_once_per_ref(rows: list[Notification], ref: str) -> list[Notification]:
    """Insert the rows whose (user, ref) is new; skip the others, even when racing."""
    existing = set(
        Notification.objects.filter(ref=ref, user_id__in=[n.user_id for n in rows]).values_list(
            "user_id", flat=True
        )
    )
    created = []
    # In user order: two callers inserting the same people in opposite orders would each
    # wait for a row the other holds (a deadlock); in one order the second simply waits.
    for row in sorted(rows, key=lambda n: n.user_id):
        if row.user_id in existing:
            continue
        try:
            # A savepoint per row: when a concurrent transaction inserted the same
            # (user, ref) first, PostgreSQL makes this insert wait for it and then fail on
            # the unique index; only this row is undone, the caller's transaction goes on.
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            if not Notification.objects.filter(user_id=row.user_id, ref=ref).exists():
                raise  # some other constraint: not ours to hide
            continue
        created.append(row)
    return created


def _check_lengths(*, subject: str, kind: str, link: str, ref: str) -> None:
    """Refuse what the columns cannot hold whole (a cut link or ref would be wrong)."""
    if not subject.strip():
        raise ValueError("a notification needs a subject")
    for name, value in (("kind", kind), ("link", link), ("ref", ref)):
        limit = getattr(Notification._meta.get_field(name), "max_length", None) or 0
        if len(value) > limit:
            raise ValueError(f"notification {name} is longer than {limit} characters")


def _queue_deliveries(delivery_ids: list[int]) -> None:
    """After commit: hand the deliveries to a background task (Celery, thread or inline)."""
    from accounts.tasks import notifications_deliver_task
    from config.tasks import enqueue_on_commit

    # Called after commit, outside any transaction, so this enqueues at once.
    enqueue_on_commit(notifications_deliver_task, delivery_ids=delivery_ids)


def notify(
    *,
    users: Iterable[User],
    subject: str,
    body: str = "",
    link: str = "",
    kind: str = "",
    ref: str = "",
) -> list[Notification]:
    """Put a notification in each user's inbox now (same transaction as the caller) and
    send it through the configured external backends after commit.

    Each active user is notified once, however often listed. With a `ref` (e.g.
    "sla-event:123"), a user who already has a notification with that ref gets no second
    one. Returns the notifications this call created. The text is stored as given:
    callers write it in the UI language (e.g. under translation.override("zh-hans")).
    """
    _check_lengths(subject=subject, kind=kind, link=link, ref=ref)
    # Read at call time, so tests and settings overrides see the current list.
    backends = list(dict.fromkeys(getattr(settings, "LINLI_NOTIFICATION_BACKENDS", [])))
    recipients = _recipients(users)
    if not recipients:
        return []
    # One line (an e-mail subject may not hold a newline), within the column.
    subject = Truncator(" ".join(subject.split())).chars(200)
    now = timezone.now()
    rows = [
        Notification(
            user=user,
            kind=kind,
            subject=subject,
            body=body,
            link=link,
            ref=ref,
            created_at=now,
        )
        for user in recipients
    ]
    with transaction.atomic(savepoint=False):
        created = _create_once_per_ref(rows, ref) if ref else Notification.objects.bulk_create(rows)
        if created and backends:
            deliveries = NotificationDelivery.objects.bulk_create(
                NotificationDelivery(notification=notification, backend=backend)
                for notification in created
                for backend in backends
            )
            delivery_ids = [d.pk for d in deliveries]

            def queue_deliveries() -> None:  # a function: Django logs robust hooks by name
                _queue_deliveries(delivery_ids)

            # robust: a broker that is down must not turn the caller's committed work
            # into an error page; the pending sweep sends these later.
            transaction.on_commit(queue_deliveries, robust=True)
    return created


def _move(pk: int, old: str, new: str, **fields: Any) -> bool:
    """Compare-and-set a delivery from `old` to `new`; False if it was not in `old`."""
    if new not in DELIVERY_TRANSITIONS.get(old, set()):
        raise ValueError(f"a delivery cannot go from {old} to {new}")
    return NotificationDelivery.objects.filter(pk=pk, status=old).update(status=new, **fields) == 1


def _backend(path: str, cache: dict[str, Any]) -> Any:
    if path not in cache:
        cache[path] = import_string(path)()
    return cache[path]


def _deliver(delivery: NotificationDelivery, cache: dict[str, Any]) -> str:
    """Send one pending delivery unless another run claimed it; return its new status."""
    if not _move(delivery.pk, Status.PENDING, Status.SENDING, attempted_at=timezone.now()):
        return ""
    error = ""
    try:
        sent = _backend(delivery.backend, cache).send(delivery.notification)
        status = Status.SENT if sent else Status.SKIPPED
    except Exception as exc:
        # Logged with the traceback (the log filter masks phone numbers); the row keeps
        # a short reason for the admin page.
        logger.exception(
            "notification %s: delivery %s through %s failed",
            delivery.notification_id,
            delivery.pk,
            delivery.backend,
        )
        status, error = Status.FAILED, f"{type(exc).__name__}: {exc}"[:500]
    _move(delivery.pk, Status.SENDING, status, finished_at=timezone.now(), error=error)
    return status


def notification_deliveries_send(*, delivery_ids: Sequence[int]) -> dict[str, int]:
    """Send the given deliveries that are still pending; return how many ended in each status."""
    deliveries = (
        NotificationDelivery.objects.filter(pk__in=delivery_ids, status=Status.PENDING)
        .select_related("notification__user")
        .order_by("pk")
    )
    cache: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for delivery in deliveries:
        status = _deliver(delivery, cache)
        if status:
            counts[status] = counts.get(status, 0) + 1
    return counts


def notification_deliveries_send_pending(
    *, now: dt.datetime, limit: int = PENDING_BATCH
) -> dict[str, int]:
    """Send deliveries left pending past the grace time (their after-commit task was lost)."""
    ids = list(
        NotificationDelivery.objects.filter(
            status=Status.PENDING, notification__created_at__lt=now - PENDING_GRACE
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return {}
    return notification_deliveries_send(delivery_ids=ids)


def notification_mark_read(*, notification: Notification, now: dt.datetime) -> Notification:
    """Mark one of the user's notifications read (the first reading time stays)."""
    # Compare-and-set: reading twice, or on two devices at once, keeps the first time.
    updated = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=now
    )
    if updated:
        notification.read_at = now
    elif notification.read_at is None:
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: Any, now: dt.datetime) -> int:
    """Mark every unread notification of the user read; return how many there were."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=now)
