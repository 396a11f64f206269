"""What each Open311 document says, built from models; and the parsing of its inputs.

Output is plain data in the spec's field order (see formats.py for XML and JSON). Ids and
codes are always strings; absent values are None (an empty element in XML, null in JSON).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from grievances.models import Category, Grievance, SlaClock, SlaClockSpec
from grievances.open311.formats import MIME_TYPES, w3_datetime
from grievances.sla.clocks import clock_time_left

Status = Grievance.Status

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: Our statuses an Open311 reader sees as "closed" (the spec: "it has been resolved");
#: the rest are "open". A resolved grievance the reporter calls "not solved" reopens.
CLOSED_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED, Status.REJECTED, Status.MERGED})
OPEN_STATUSES = frozenset(Status.values) - CLOSED_STATUSES
OPEN311_STATUSES = {
    "open": OPEN_STATUSES,
    "closed": CLOSED_STATUSES,
}


class Open311Error(Exception):
    """A request the spec answers with an error document: HTTP status and descriptions."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(*descriptions)
        self.status = status
        self.descriptions = [str(d) for d in descriptions]


# --- discovery and services ---------------------------------------------------------------


def discovery_data(*, changeset: str, url: str) -> dict[str, Any]:
    """The service discovery document."""
    return {
        "changeset": changeset,
        "contact": _(
            "For help with this API, contact the community office (社区居委会) that runs it."
        ),
        "key_service": _(
            "API keys are issued by the community office in the administration site "
            "(Open311 clients); each key files requests into one community."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": changeset,
                "type": "production",
                "formats": list(MIME_TYPES),
            }
        ],
    }


def service_data(category: Category) -> dict[str, Any]:
    """One entry of the service list."""
    group = category.parent.name if category.parent_id and category.parent else ""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(_attribute_definitions(category)),
        "type": "realtime",
        "keywords": ", ".join(part for part in (category.name, group) if part),
        "group": group,
    }


def _attribute_definitions(category: Category) -> list[Mapping[str, Any]]:
    return [a for a in (category.attributes or []) if isinstance(a, Mapping) and a.get("code")]


def _optional_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def service_definition_data(category: Category) -> dict[str, Any]:
    """The service definition: the category's extra questions as Open311 attributes."""
    attributes = []
    for index, definition in enumerate(_attribute_definitions(category), start=1):
        datatype = str(definition.get("datatype") or "string")
        attribute: dict[str, Any] = {
            "variable": definition.get("variable", True) is not False,
            "code": str(definition["code"]),
            "datatype": datatype,
            "required": bool(definition.get("required", False)),
            "datatype_description": _optional_text(definition.get("datatype_description")),
            "order": int(definition.get("order") or index),
            "description": str(definition.get("description") or ""),
        }
        if datatype in ("singlevaluelist", "multivaluelist"):
            attribute["values"] = [
                {"key": str(value.get("key")), "name": str(value.get("name") or value.get("key"))}
                for value in definition.get("values") or []
                if isinstance(value, Mapping)
            ]
        attributes.append(attribute)
    attributes.sort(key=lambda a: a["order"])
    return {"service_code": category.code, "attributes": attributes}


# --- requests ---------------------------------------------------------------------------------


def is_public(grievance: Grievance) -> bool:
    """The Python twin of selectors.open311_public_q, for a row already loaded."""
    return (
        grievance.is_public
        and not grievance.category.is_private
        and not (grievance.is_anonymous and grievance.channel == Grievance.Channel.SUGGESTION_BOX)
    )


def _status_notes(grievance: Grievance) -> str | None:
    if grievance.status == Status.MERGED and grievance.merged_into is not None:
        target = grievance.merged_into
        # Name the request it was merged into only when a reader may open that one.
        if is_public(target):
            return _("Merged into request %(id)s.") % {"id": target.pk}
        return _("Merged into another request.")
    return getattr(grievance, "status_note", None) or None


def expected_datetime(grievance: Grievance, now: dt.datetime) -> dt.datetime | None:
    """When the grievance should be dealt with: the soonest live promise to fix it.

    The clocks that promise a result (resolve, plan, repairs), not the 10-minute "on
    site" clock, which says when someone arrives, not when it is fixed. A paused clock
    promises its remaining time from now on (resuming moves it by the time paused).
    """
    clocks: list[SlaClock] = getattr(grievance, "live_clocks", None) or []
    candidates = []
    for clock in clocks:
        if clock.kind == SlaClockSpec.Kind.ARRIVE:
            continue
        left = clock_time_left(clock, now)
        if left is not None:
            candidates.append(now + left)
    return min(candidates) if candidates else None


def _address(grievance: Grievance) -> str | None:
    # A building, never a unit or room: a public list must not point at someone's door.
    if grievance.building is not None:
        return f"{grievance.building.estate.name} {grievance.building.number}"
    if grievance.address:
        return grievance.address
    if grievance.estate is not None:
        return grievance.estate.name
    return None


def _updated(grievance: Grievance) -> dt.datetime:
    # "For requests with status=closed, this will be the date the request was closed."
    if grievance.status == Status.CLOSED and grievance.closed_at:
        return grievance.closed_at
    if grievance.status == Status.RESOLVED and grievance.resolved_at:
        return grievance.resolved_at
    return grievance.updated_at


def _coordinate(value: Any) -> float | None:
    return None if value is None else float(value)


def request_data(grievance: Grievance, now: dt.datetime) -> dict[str, Any]:
    """One request of GET requests: status, place and promise, never who reported it."""
    organization = grievance.handler_organization
    return {
        "service_request_id": str(grievance.pk),
        "status": "closed" if grievance.status in CLOSED_STATUSES else "open",
        "status_notes": _status_notes(grievance),
        "service_name": grievance.category.name,
        "service_code": grievance.category.code,
        "description": grievance.description,
        "agency_responsible": organization.name if organization else grievance.community.name,
        "service_notice": None,
        "requested_datetime": w3_datetime(grievance.submitted_at),
        "updated_datetime": w3_datetime(_updated(grievance)),
        "expected_datetime": w3_datetime(expected_datetime(grievance, now)),
        "address": _address(grievance),
        "address_id": str(grievance.building_id) if grievance.building_id else None,
        "zipcode": None,
        "lat": _coordinate(grievance.latitude),
        "long": _coordinate(grievance.longitude),
        # Photos are served only to those in scope: never a public URL.
        "media_url": None,
    }


def created_data(grievance: Grievance, *, notice: str, account_id: str) -> dict[str, Any]:
    """The answer to POST requests."""
    return {
        "service_request_id": str(grievance.pk),
        "service_notice": notice or None,
        "account_id": account_id or None,
    }


# --- inputs -------------------------------------------------------------------------------------

_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# '+' in an unencoded query string arrives as a space: "…T00:00:00 08:00".
_SPACE_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


def attributes_from(data: QueryDict) -> dict[str, Any]:
    """attribute[code]=value pairs; attribute[code][]=… (several) for a multivaluelist."""
    answers: dict[str, Any] = {}
    for name in data:
        match = _ATTRIBUTE.match(name)
        if not match:
            continue
        code, many = match.group(1), match.group(2)
        values = [v.strip() for v in data.getlist(name)]
        answers[code] = values if many else (values[-1] if values else "")
    return answers


def w3_parse(value: str, *, name: str) -> dt.datetime:
    """A w3 datetime with its time zone (the spec requires one), else a 400."""
    text = _SPACE_OFFSET.sub(r"+\1", value.strip())
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise Open311Error(
            400,
            _("%(name)s must be a date and time with a time zone, e.g. %(example)s.")
            % {"name": name, "example": "2026-11-23T14:05:00+08:00"},
        )
    return parsed


def comma_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def personal_name(first: str, last: str) -> str:
    """The caller's name as the office writes it: 张 + 建国 without a space, else "John Smith"."""
    first, last = first.strip(), last.strip()
    if any(_is_cjk(ch) for ch in first + last):
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part)


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def changeset(value: dt.datetime | None) -> str:
    """The discovery changeset: when a service or its definition last changed."""
    return w3_datetime(value or _NEVER_CHANGED) or ""


_NEVER_CHANGED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
