"""Helpers every grievance service uses: lock, move along the map, timeline, notify.

They run inside the caller's durable transaction (`atomic(savepoint=False)`), after the
caller locked the grievance row: the row lock serialises everything that happens to one
grievance (a receiver accepting while the office withdraws, two ratings at once), and the
compare-and-set on the status is the last guard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from community.models import Membership, Resident
from grievances import workflow
from grievances.models import Dispatch, Grievance, TimelineEvent

Role = Membership.Role
Status = Grievance.Status
Kind = TimelineEvent.Kind
_COORD_PLACES = Decimal("0.000001")
LIVE_DISPATCH = (Dispatch.Status.PENDING, Dispatch.Status.ACCEPTED)


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError naming its form field that keeps its code (the dict form drops it).

    `ValidationError({field: message}, code=...)` loses the code: the API would answer
    "invalid" instead of saying which rule refused.
    """
    return ValidationError({field: ValidationError(message, code=code)})


def coordinate(value: Any, *, low: int, high: int, field: str) -> Decimal | None:
    """A latitude or longitude as stored (6 decimals), or None; refuses nonsense."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value)).quantize(_COORD_PLACES)
    except InvalidOperation as exc:
        raise field_error(field, _("Not a valid position."), "position") from exc
    if not low <= number <= high:
        raise field_error(field, _("Not a valid position."), "position")
    return number


def ui_text(message: Any, params: dict[str, Any] | None = None) -> str:
    """A generated timeline line, written in the UI language (stored text stays as written)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = str(message)
        return text % params if params else text


def grievance_lock(grievance: Grievance | int) -> Grievance:
    """The grievance row, locked for the rest of the transaction, as it is now.

    FOR NO KEY UPDATE: the services never change a grievance's key, and this lock lets
    rows that merely reference the grievance (timeline lines, clocks, photos) be inserted
    meanwhile; it still excludes the sweep, which takes the same lock with SKIP LOCKED.
    """
    pk = grievance if isinstance(grievance, int) else grievance.pk
    return (
        Grievance.objects.select_for_update(no_key=True, of=("self",))
        .select_related("community")
        .get(pk=pk)
    )


def conflict() -> ValidationError:
    return ValidationError(
        _("Someone else changed this grievance meanwhile. Reload and try again."),
        code="conflict",
    )


def history_record(*, grievance: Grievance, actor: Any, now: dt.datetime, reason: str) -> None:
    """update() skips simple-history's signal: record the change (and who made it) here."""
    Grievance.history.bulk_history_create(
        [grievance],
        update=True,
        default_user=actor,
        default_change_reason=reason[:100],
        default_date=now,
    )


def timeline_add(
    *,
    grievance: Grievance,
    kind: str,
    actor: Any,
    now: dt.datetime,
    note: str = "",
    old_value: str = "",
    new_value: str = "",
    is_public: bool = True,
    on_behalf_of: Resident | None = None,
    latitude: Any = None,
    longitude: Any = None,
) -> TimelineEvent:
    """Write one line of the grievance's story."""
    return TimelineEvent.objects.create(
        grievance=grievance,
        kind=kind,
        at=now,
        actor=actor,
        on_behalf_of=on_behalf_of,
        old_value=str(old_value)[:64],
        new_value=str(new_value)[:64],
        note=note,
        is_public=is_public,
        latitude=latitude,
        longitude=longitude,
    )


@transaction.atomic(savepoint=False)
def grievance_move(
    *,
    grievance: Grievance,
    to: str,
    actor: Any,
    now: dt.datetime,
    kind: str = Kind.STATUS,
    note: str = "",
    is_public: bool = True,
    on_behalf_of: Resident | None = None,
    **fields: Any,
) -> TimelineEvent:
    """Move a locked grievance to `to` along the map (compare-and-set) and log it."""
    workflow.check(grievance, to)
    old = grievance.status
    fields["updated_at"] = now
    moved = Grievance.objects.filter(pk=grievance.pk, status=old).update(status=to, **fields)
    if moved != 1:
        raise conflict()
    grievance.status = to
    for key, value in fields.items():
        setattr(grievance, key, value)
    history_record(grievance=grievance, actor=actor, now=now, reason=f"{old} → {to}")
    return timeline_add(
        grievance=grievance,
        kind=kind,
        actor=actor,
        now=now,
        note=note,
        old_value=old,
        new_value=to,
        is_public=is_public,
        on_behalf_of=on_behalf_of,
    )


@transaction.atomic(savepoint=False)
def grievance_fields_set(
    *, grievance: Grievance, actor: Any, now: dt.datetime, reason: str, **fields: Any
) -> None:
    """Change fields of a locked grievance without moving its status (history kept)."""
    fields["updated_at"] = now
    Grievance.objects.filter(pk=grievance.pk).update(**fields)
    for key, value in fields.items():
        setattr(grievance, key, value)
    history_record(grievance=grievance, actor=actor, now=now, reason=reason)


def live_dispatch(grievance: Grievance, *, lock: bool = True) -> Dispatch | None:
    """The grievance's pending or accepted dispatch (at most one: a unique index says so)."""
    qs = Dispatch.objects.filter(grievance=grievance, status__in=LIVE_DISPATCH)
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.select_related("organization", "assignee").first()


def receiver_label(dispatch: Dispatch) -> str:
    """Who a dispatch went to, as a person reads it: the organization, or the person."""
    if dispatch.organization_id is not None and dispatch.assignee_id is not None:
        return f"{dispatch.organization} · {dispatch.assignee}"
    return str(dispatch.organization or dispatch.assignee)


def office_users(community_id: int) -> list[User]:
    """The community's office: its active staff and admins."""
    return list(
        User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__community_id=community_id,
            memberships__role__in=[Role.COMMUNITY_ADMIN, Role.COMMUNITY_STAFF],
        )
        .distinct()
        .order_by("pk")
    )


def receiver_users(dispatch: Dispatch) -> list[User]:
    """Who a dispatch reaches: the named person, else the staff of the organization."""
    if dispatch.assignee_id is not None:
        return [dispatch.assignee] if dispatch.assignee else []
    if dispatch.organization_id is None:
        return []
    return list(
        User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__organization_id=dispatch.organization_id,
            memberships__role__in=[Role.PROPERTY_STAFF, Role.PARTNER_STAFF],
        )
        .distinct()
        .order_by("pk")
    )


def reporter_users(grievance: Grievance) -> list[User]:
    """The reporter's login, if any (anonymous grievances have none)."""
    if grievance.is_anonymous or grievance.reporter_id is None:
        return []
    user = User.objects.filter(resident__pk=grievance.reporter_id, is_active=True).first()
    return [user] if user else []


def tell(
    *,
    users: Iterable[User],
    kind: str,
    subject: Any,
    params: dict[str, Any] | None = None,
    body: Any = "",
    ref: str,
) -> None:
    """Notify users (inbox now, SMS/e-mail after commit) in the site's language.

    `subject` and `body` are lazy translations (gettext_lazy) filled with `params` under
    the site language: the inbox row keeps the text as written. Every message here is
    about one grievance, `params["pk"]`, and links to its page.
    """
    from accounts.notifications import notify
    from grievances.sla.escalation import grievance_path

    params = params or {}
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            users=users,
            subject=str(subject) % params if params else str(subject),
            body=(str(body) % params if params else str(body)) if body else "",
            link=grievance_path(params["pk"]) if "pk" in params else "",
            kind=f"grievance.{kind}"[:50],
            ref=ref[:200],
        )
