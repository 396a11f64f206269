"""Filing a grievance (受理登记) from every channel, and merging duplicates.

Channels and who may use them:

- portal: a resident files for themselves; reporter and household are theirs;
- grid worker: a grid worker of this community, picking building/unit, with GPS;
- hotline: the office types in a call: the caller's phone, maybe on behalf of a
  registered resident (then reporter and household are that resident's);
- suggestion box (意见箱): the office copying a paper slip, or a resident of the
  community online; may be anonymous: then no reporter, household, name or phone is
  stored, nobody but the office sees it, and the slip's submitter is not kept when a
  resident posted it themselves;
- patrol or inspection: a grid worker, the office or property staff on their rounds, or
  another app's record (volunteers' patrol log) with its `source_ref`;
- Open311: a client application (its key is checked by the Open311 view).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.phone import normalize_phone
from community.models import (
    Building,
    Community,
    Estate,
    Household,
    Membership,
    Resident,
    Unit,
)
from grievances import workflow
from grievances.attachments import attachments_record, photos_check, photos_stored
from grievances.models import (
    Attachment,
    Category,
    Dispatch,
    Grievance,
    SlaClock,
    TimelineEvent,
)
from grievances.selectors.access import is_office
from grievances.services.common import (
    coordinate,
    field_error,
    grievance_lock,
    grievance_move,
    live_dispatch,
    timeline_add,
    ui_text,
)
from grievances.services.dispatch import dispatch_end
from grievances.sla.clocks import clocks_cancel, clocks_on_trigger

Channel = Grievance.Channel
Status = Grievance.Status
Kind = TimelineEvent.Kind
Role = Membership.Role


def _clean_text(value: str, *, field: str, max_length: int | None = None) -> str:
    text = " ".join((value or "").split()) if max_length else (value or "").strip()
    if not text:
        raise field_error(field, _("This field is required."), "required")
    if max_length and len(text) > max_length:
        raise field_error(field, _("At most %(n)s characters.") % {"n": max_length}, "max_length")
    return text


def category_attributes_clean(category: Category, answers: dict[str, Any] | None) -> dict[str, Any]:
    """Check answers against the category's extra questions (Open311 attribute definitions).

    Required questions must be answered; list answers must be among the listed keys;
    numbers must be numbers. Answers to questions the category does not ask are refused.
    """
    answers = dict(answers or {})
    definitions = {d.get("code"): d for d in (category.attributes or []) if d.get("code")}
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for code in answers:
        if code not in definitions:
            errors[str(code)] = _("This question is not asked for this category.")
    for code, definition in definitions.items():
        if definition.get("variable") is False:
            continue  # an informational attribute: nothing to answer (Open311)
        value = answers.get(code)
        empty = value is None or value == "" or value == []
        if empty:
            if definition.get("required"):
                errors[code] = _("Please answer: %(question)s") % {
                    "question": definition.get("description") or code
                }
            continue
        datatype = definition.get("datatype", "string")
        keys = {str(v.get("key")) for v in definition.get("values") or []}
        if datatype == "singlevaluelist":
            if str(value) not in keys:
                errors[code] = _("Choose one of the listed answers.")
                continue
            cleaned[code] = str(value)
        elif datatype == "multivaluelist":
            values = value if isinstance(value, list | tuple) else [value]
            if not values or any(str(v) not in keys for v in values):
                errors[code] = _("Choose among the listed answers.")
                continue
            cleaned[code] = sorted({str(v) for v in values})
        elif datatype == "number":
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                errors[code] = _("Enter a number.")
                continue
            if not number.is_finite():
                errors[code] = _("Enter a number.")
                continue
            cleaned[code] = str(number)
        else:  # string, text, datetime: kept as text
            text = str(value).strip()
            if len(text) > 1000:
                errors[code] = _("At most %(n)s characters.") % {"n": 1000}
                continue
            cleaned[code] = text
    if errors:
        raise ValidationError({"attributes": [f"{k}: {v}" for k, v in errors.items()]})
    return cleaned


def _location(
    *,
    community: Community,
    estate: Estate | None,
    building: Building | None,
    unit: Unit | None,
    household: Household | None,
) -> tuple[Estate | None, Building | None, Unit | None, Household | None]:
    """Fill the location chain upwards (household → unit → building → estate) and check
    that every given part agrees with the others and lies in the community."""
    mismatch = ValidationError(
        _("The address parts do not match each other."), code="location_mismatch"
    )
    # One query for the lowest part given, with everything above it.
    if household is not None:
        household = Household.objects.select_related("unit__building__estate").get(pk=household.pk)
        if unit is not None and unit.pk != household.unit_id:
            raise mismatch
        unit = household.unit
    elif unit is not None:
        unit = Unit.objects.select_related("building__estate").get(pk=unit.pk)
    if unit is not None:
        if building is not None and building.pk != unit.building_id:
            raise mismatch
        building = unit.building
    elif building is not None and not Building.estate.is_cached(building):
        # A building read with its estate (the API's input does) is taken as it is.
        building = Building.objects.select_related("estate").get(pk=building.pk)
    if building is not None:
        if estate is not None and estate.pk != building.estate_id:
            raise mismatch
        estate = building.estate
    if estate is not None and estate.community_id != community.pk:
        raise ValidationError(
            _("This place is not in the community %(community)s.") % {"community": community},
            code="location_community",
        )
    return estate, building, unit, household


def _resident_community_id(resident: Resident) -> int | None:
    return (
        Resident.objects.filter(pk=resident.pk, status=Resident.Status.ACTIVE)
        .values_list("household__unit__building__estate__community_id", flat=True)
        .first()
    )


def _has_role(user: Any, roles: set[str], **area: Any) -> bool:
    return Membership.objects.filter(user=user, is_active=True, role__in=roles, **area).exists()


def _active_resident(user: Any, community: Community) -> Resident | None:
    if user is None:
        return None
    return (
        Resident.objects.filter(
            user=user,
            status=Resident.Status.ACTIVE,
            household__unit__building__estate__community=community,
        )
        .select_related("household__unit__building__estate")
        .first()
    )


def _check_submitter(
    *, channel: str, submitted_by: Any, community: Community, source_ref: str
) -> Resident | None:
    """Refuse a channel the submitter may not use here; return their resident record
    (looked up only for the channels a resident uses: the portal and the suggestion box)."""
    office = submitted_by is not None and is_office(submitted_by, community.pk)
    resident_channel = channel in (Channel.PORTAL, Channel.SUGGESTION_BOX)
    own = _active_resident(submitted_by, community) if resident_channel else None
    denied = PermissionDenied(_("You may not file grievances this way in this community."))
    if channel == Channel.PORTAL:
        if own is None:
            raise denied
    elif channel == Channel.GRID_WORKER:
        if submitted_by is None or not _has_role(
            submitted_by, {Role.GRID_WORKER}, grid__community=community
        ):
            raise denied
    elif channel == Channel.HOTLINE:
        if not office:
            raise denied
    elif channel == Channel.SUGGESTION_BOX:
        if not (office or own is not None):
            raise denied
    elif channel == Channel.PATROL:
        if submitted_by is None:
            if not source_ref:
                raise denied
        elif not (
            office
            or _has_role(submitted_by, {Role.GRID_WORKER}, grid__community=community)
            or _has_role(
                submitted_by,
                {Role.PROPERTY_STAFF},
                organization__estates_served__community=community,
            )
        ):
            raise denied
    elif channel == Channel.OPEN311:
        pass  # the Open311 view authenticates the client's key before it calls this
    else:
        raise ValidationError(_("Unknown channel."), code="channel")
    return own


def grievance_file(
    *,
    community: Community,
    category: Category,
    title: str,
    description: str,
    channel: str,
    submitted_by: Any,
    now: dt.datetime,
    reporter: Resident | None = None,
    household: Household | None = None,
    building: Building | None = None,
    unit: Unit | None = None,
    estate: Estate | None = None,
    caller_name: str = "",
    caller_phone: str = "",
    is_anonymous: bool = False,
    latitude: Any = None,
    longitude: Any = None,
    address: str = "",
    attributes: dict[str, Any] | None = None,
    photos: Any = (),
    source_ref: str = "",
    idempotency_key: str | None = None,
) -> Grievance:
    """File a grievance from any channel: checked, stored with its photos, clocks started.

    With an `idempotency_key` (the API's header), filing again with the same key returns
    the submitter's first grievance, marked `replayed`, and stores nothing more.
    """
    title = _clean_text(title, field="title", max_length=120)
    description = _clean_text(description, field="description")
    # A replayed key is found when its insert hits the unique (submitter, key) index
    # below: no read before every filing for the rare retry.
    key = _clean_key(idempotency_key) if submitted_by is not None else None
    address = " ".join((address or "").split())[:200]
    caller_name = " ".join((caller_name or "").split())[:50]
    caller_phone = normalize_phone(caller_phone)[:20]
    source_ref = (source_ref or "").strip()[:64]
    if not category.is_active:
        raise ValidationError(_("This category is no longer in use."), code="category")
    # Read with the category when the caller annotated it (the API does); else asked here.
    has_children = getattr(category, "has_active_children", None)
    if has_children is None:
        has_children = category.children.filter(is_active=True).exists()
    if has_children:
        raise ValidationError(_("Choose a more specific category."), code="category_parent")
    answers = category_attributes_clean(category, attributes)
    lat = coordinate(latitude, low=-90, high=90, field="latitude")
    lng = coordinate(longitude, low=-180, high=180, field="longitude")
    if (lat is None) != (lng is None):
        raise ValidationError(_("A position needs both latitude and longitude."), code="position")

    own = _check_submitter(
        channel=channel, submitted_by=submitted_by, community=community, source_ref=source_ref
    )
    if is_anonymous:
        if channel != Channel.SUGGESTION_BOX:
            raise ValidationError(
                _("Only the suggestion box takes anonymous reports."), code="anonymous"
            )
        # Nothing that names the writer: no reporter, household, name or phone.
        reporter, household, caller_name, caller_phone = None, None, "", ""
        if submitted_by is not None and not is_office(submitted_by, community.pk):
            submitted_by = None  # a resident posting anonymously is not recorded either
    elif channel == Channel.PORTAL:
        assert own is not None
        if reporter is not None and reporter.pk != own.pk:
            raise PermissionDenied(_("Residents file grievances for themselves."))
        reporter = own
    elif (
        channel == Channel.SUGGESTION_BOX
        and reporter is None
        and own is not None
        and not is_office(submitted_by, community.pk)
    ):
        reporter = own  # a resident's own slip (the office copying one names nobody)
    if channel == Channel.HOTLINE and not caller_phone:
        raise ValidationError({"caller_phone": _("Note the caller's phone number.")})
    if reporter is not None:
        if reporter is not own and _resident_community_id(reporter) != community.pk:
            raise ValidationError(
                _("The reporter does not live in this community."), code="reporter"
            )
        if household is None:
            # The reporter's home, unless the problem is elsewhere (a lamp by another
            # building): then the household stays theirs but the place is the one given.
            elsewhere = building is not None or unit is not None or estate is not None
            household = None if elsewhere else reporter.household
            household_id = reporter.household_id
        else:
            household_id = household.pk
        if household_id != reporter.household_id:
            raise ValidationError(
                _("The household is not the reporter's."), code="reporter_household"
            )
    estate, building, unit, household = _location(
        community=community, estate=estate, building=building, unit=unit, household=household
    )
    has_place = estate is not None or bool(address) or lat is not None
    if not has_place and channel != Channel.SUGGESTION_BOX:
        raise ValidationError(
            _("Say where it is: pick a building, give an address or a position."),
            code="location_required",
        )

    checked = photos_check(photos)
    grievance = Grievance(
        community=community,
        estate=estate,
        building=building,
        unit=unit,
        household=household,
        category=category,
        title=title,
        description=description,
        channel=channel,
        status=Status.SUBMITTED,
        tier=category.default_tier,
        reporter=reporter,
        submitted_by=submitted_by,
        caller_name=caller_name,
        caller_phone=caller_phone,
        is_anonymous=is_anonymous,
        # Private categories (neighbour disputes) and anonymous slips are never public.
        is_public=not (category.is_private or is_anonymous),
        address=address,
        latitude=lat,
        longitude=lng,
        attributes=answers,
        source_ref=source_ref,
        idempotency_key=key or "",
        submitted_at=now,
    )
    grievance._history_user = submitted_by  # type: ignore[attr-defined]
    try:
        return _file_stored(grievance, checked=checked, reporter=reporter, now=now)
    except IntegrityError:
        # The key was used before (a retry), or twice at once: the first is answered.
        first = None
        if key is not None:
            first = _replayed(submitted_by=submitted_by, key=key, category=category, title=title)
        if first is None:
            raise
        return first


def _clean_key(key: str | None) -> str | None:
    """The client's idempotency key, stripped (None: it sent none)."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 100:
        raise ValidationError(_("A valid idempotency key is required."), code="key")
    return key


def _replayed(*, submitted_by: Any, key: str, category: Category, title: str) -> Grievance | None:
    """The submitter's grievance filed under `key` (marked `replayed`), if it is this one."""
    first = Grievance.objects.filter(submitted_by=submitted_by, idempotency_key=key).first()
    if first is None:
        return None
    if first.category_id != category.pk or first.title != title:
        # A retry repeats the report; another report under the same key is the client's
        # mistake, to be shown, not answered with the first grievance.
        raise ValidationError(
            _("This Idempotency-Key was already used for a different request."),
            code="key_reused",
        )
    first.replayed = True  # type: ignore[attr-defined]
    return first


@dataclass(frozen=True)
class FiledRows:
    """What filing wrote besides the grievance (kept on it as `filed_rows`), so the
    answer to the filer is built from these rows instead of read back."""

    event: TimelineEvent
    photos: list[Attachment]
    clocks: list[SlaClock]


def _file_stored(
    grievance: Grievance, *, checked: Any, reporter: Resident | None, now: dt.datetime
) -> Grievance:
    """Save the checked grievance with its photos, first timeline line and clocks."""
    submitted_by, channel = grievance.submitted_by, grievance.channel
    with photos_stored(checked) as stored, transaction.atomic(durable=True):
        grievance.save()
        event = timeline_add(
            grievance=grievance,
            kind=Kind.CREATED,
            actor=submitted_by,
            now=now,
            new_value=Status.SUBMITTED,
            note=ui_text(Channel(channel).label),
            on_behalf_of=reporter if channel == Channel.HOTLINE else None,
        )
        photos = attachments_record(
            grievance=grievance,
            stored=stored,
            kind=Attachment.Kind.REPORT,
            event=event,
            actor=submitted_by,
            now=now,
        )
        clocks = clocks_on_trigger(
            grievance=grievance, trigger="submitted", now=now, actor=submitted_by
        )
    grievance.filed_rows = FiledRows(event=event, photos=photos, clocks=clocks)  # type: ignore[attr-defined]
    return grievance


def grievance_merge(
    *, grievance: Grievance, into: Grievance, actor: Any, now: dt.datetime, note: str = ""
) -> Grievance:
    """Merge a duplicate into the grievance it repeats (office): closed as merged, clocks
    cancelled, a line on both timelines."""
    if grievance.pk == into.pk:
        raise ValidationError(_("A grievance cannot be merged into itself."), code="merge_self")
    note = (note or "").strip()
    with transaction.atomic(durable=True):
        # Both rows, in primary-key order: two merges of the pair cannot deadlock.
        first, second = sorted((grievance.pk, into.pk))
        locked = {pk: grievance_lock(pk) for pk in (first, second)}
        duplicate, target = locked[grievance.pk], locked[into.pk]
        if not is_office(actor, duplicate.community_id):
            raise PermissionDenied(_("Only the community office may merge grievances."))
        if target.community_id != duplicate.community_id:
            raise ValidationError(
                _("Only grievances of the same community can be merged."), code="merge_community"
            )
        if target.status in workflow.FINAL_STATUSES:
            raise ValidationError(
                _("Merge into a grievance that is still open."), code="merge_target_closed"
            )
        workflow.check(duplicate, Status.MERGED)
        dispatch = live_dispatch(duplicate)
        if dispatch is not None:
            dispatch_end(dispatch=dispatch, status=Dispatch.Status.WITHDRAWN, actor=actor, now=now)
        grievance_move(
            grievance=duplicate,
            to=Status.MERGED,
            actor=actor,
            now=now,
            kind=Kind.MERGED,
            note=note or ui_text(gettext_lazy("Merged into #%(pk)s."), {"pk": target.pk}),
            merged_into=target,
        )
        clocks_cancel(grievance=duplicate, now=now, actor=actor)
        timeline_add(
            grievance=target,
            kind=Kind.MERGED,
            actor=actor,
            now=now,
            old_value=f"#{duplicate.pk}",
            note=ui_text(
                gettext_lazy("#%(pk)s was merged into this grievance."), {"pk": duplicate.pk}
            ),
            is_public=False,
        )
    return duplicate
