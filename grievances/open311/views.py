"""The Open311 GeoReport v2 endpoints: parse, one call into the domain, render.

Plain Django views: the spec fixes the exact documents, status codes and content types,
and the callers authenticate with an api_key form field, not a session or a token.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from community.models import Building, Community
from grievances.models import Category, Grievance
from grievances.open311 import selectors
from grievances.open311.auth import open311_client_for_key
from grievances.open311.formats import FORMATS, JSON, XML, render, render_errors
from grievances.open311.serializers import (
    OPEN311_STATUSES,
    Open311Error,
    attributes_from,
    changeset,
    comma_list,
    created_data,
    discovery_data,
    personal_name,
    request_data,
    service_data,
    service_definition_data,
    w3_parse,
)
from grievances.open311.throttling import open311_throttle_wait
from grievances.services.intake import category_attributes_clean, grievance_file
from grievances.sla.clocks import policy_for

#: The longest span GET requests covers ("may not span more than 90 days").
MAX_SPAN = dt.timedelta(days=90)
#: The spec's limit on a description.
MAX_DESCRIPTION = 4000
_TITLE_LENGTH = 40
# Our field names in a service's refusal, as the Open311 parameter that carried them.
_PARAMETERS = {
    "title": "description",
    "description": "description",
    "latitude": "lat",
    "longitude": "long",
    "caller_phone": "phone",
    "caller_name": "first_name",
    "attributes": "attribute",
    "address": "address_string",
}

View = Callable[..., HttpResponse]


def _too_many(fmt: str, wait: float) -> HttpResponse:
    response = render_errors(fmt, 429, [_("Too many requests: try again in a moment.")])
    response["Retry-After"] = str(max(1, round(wait)))
    return response


def open311_endpoint(*methods: str) -> Callable[[View], View]:
    """The common part of every endpoint: format suffix, method, rate limit, error document."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(
            request: HttpRequest, *args: Any, fmt: str | None = None, **kwargs: Any
        ) -> HttpResponse:
            fmt = fmt or XML  # XML is the one format the spec requires: the default
            if fmt not in FORMATS:
                return render_errors(XML, 404, [_("Unknown format: use .xml or .json.")])
            allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)
            if request.method not in allowed:
                response = render_errors(fmt, 405, [_("Method not allowed.")])
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            wait = open311_throttle_wait(request, kind="address")
            if wait is not None:
                return _too_many(fmt, wait)
            try:
                return view(request, fmt, *args, **kwargs)
            except Open311Error as exc:
                return render_errors(fmt, exc.status, exc.descriptions)

        # POST is authenticated by its api_key, not by a session cookie: no CSRF token.
        return csrf_exempt(wrapper) if "POST" in methods else wrapper

    return decorate


def _jurisdiction(params: QueryDict) -> Community | None:
    code = (params.get("jurisdiction_id") or "").strip()
    if not code:
        return None
    community = selectors.open311_jurisdiction(code)
    if community is None:
        raise Open311Error(404, _("jurisdiction_id %(id)s was not found.") % {"id": code[:64]})
    return community


def _not_found_request(request_id: str) -> Open311Error:
    return Open311Error(
        404, _("service_request_id %(id)s was not found.") % {"id": request_id[:32]}
    )


def _ids(value: str) -> list[int]:
    # Something that is not a number is no request of ours: it matches nothing.
    return [
        int(part)
        for part in comma_list(value)[: selectors.MAX_REQUESTS]
        if part.isascii() and part.isdigit() and len(part) <= 18
    ]


# --- discovery and services -------------------------------------------------------------------


@open311_endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Service discovery: where the v2 endpoint is and what it speaks."""
    changed = Category.history.aggregate(at=Max("history_date"))["at"]
    url = request.build_absolute_uri(reverse("open311:root")).rstrip("/")
    return render(fmt, "discovery", discovery_data(changeset=changeset(changed), url=url))


@open311_endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET Service List: the active leaf categories (the same in every jurisdiction)."""
    _jurisdiction(request.GET)
    return render(fmt, "services", [service_data(c) for c in selectors.open311_services()])


@open311_endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    """GET Service Definition: the category's extra questions."""
    _jurisdiction(request.GET)
    category = selectors.open311_service(service_code)
    if category is None:
        raise Open311Error(
            404, _("service_code %(code)s was not found.") % {"code": service_code[:64]}
        )
    return render(fmt, "service_definition", service_definition_data(category))


# --- requests --------------------------------------------------------------------------------


@open311_endpoint("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET Service Requests (public ones) or POST Service Request (with an api_key)."""
    if request.method == "POST":
        return _request_create(request, fmt)
    return _request_list(request, fmt)


def _date_range(params: QueryDict, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start_raw = (params.get("start_date") or "").strip()
    end_raw = (params.get("end_date") or "").strip()
    start = w3_parse(start_raw, name="start_date") if start_raw else None
    end = w3_parse(end_raw, name="end_date") if end_raw else None
    if start is not None and end is not None:
        if end < start:
            raise Open311Error(400, _("end_date is before start_date."))
        if end - start > MAX_SPAN:
            raise Open311Error(400, _("start_date and end_date may not span more than 90 days."))
        return start, end
    if start is not None:
        return start, start + MAX_SPAN
    if end is not None:
        return end - MAX_SPAN, end
    return now - MAX_SPAN, now


def _positive(params: QueryDict, name: str, default: int, maximum: int | None = None) -> int:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1 or len(raw) > 9:
        raise Open311Error(400, _("%(name)s must be a positive whole number.") % {"name": name})
    return min(int(raw), maximum) if maximum else int(raw)


def _request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.GET
    now = timezone.now()
    jurisdiction = _jurisdiction(params)
    # Paging is the spec's most common extension (page, page_size); at most 1000 a page.
    page = _positive(params, "page", 1)
    page_size = _positive(params, "page_size", selectors.MAX_REQUESTS, selectors.MAX_REQUESTS)
    if (params.get("service_request_id") or "").strip():
        # "This overrides all other arguments."
        qs = selectors.open311_requests(
            jurisdiction=jurisdiction, ids=_ids(params["service_request_id"])
        )
    else:
        statuses: set[str] = set()
        for name in comma_list(params.get("status")):
            if name not in OPEN311_STATUSES:
                raise Open311Error(400, _("status must be open or closed."))
            statuses |= OPEN311_STATUSES[name]
        start, end = _date_range(params, now)
        qs = selectors.open311_requests(
            jurisdiction=jurisdiction,
            service_codes=comma_list(params.get("service_code")),
            statuses=statuses,
            start=start,
            end=end,
        )
    offset = (page - 1) * page_size
    rows = [request_data(g, now) for g in qs[offset : offset + page_size]]
    return render(fmt, "service_requests", rows)


@open311_endpoint("GET")
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    """GET Service Request: one public request, as a list of one; anything else is 404."""
    jurisdiction = _jurisdiction(request.GET)
    ids = _ids(request_id) if "," not in request_id else []
    grievance = (
        selectors.open311_requests(jurisdiction=jurisdiction, ids=ids).first() if ids else None
    )
    if grievance is None:
        raise _not_found_request(request_id)
    return render(fmt, "service_requests", [request_data(grievance, timezone.now())])


@open311_endpoint("GET")
def token_detail(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    """GET service_request_id from a token: our services are realtime, no token exists."""
    _jurisdiction(request.GET)
    raise Open311Error(404, _("token %(token)s was not found.") % {"token": token[:64]})


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any other address under /open311/: the spec's 404, in the format its suffix asks."""
    return render_errors(JSON if path.endswith(".json") else XML, 404, [_("Not found.")])


# --- POST requests ---------------------------------------------------------------------------


def _title(description: str, category: Category) -> str:
    text = " ".join(description.split())
    if not text:
        return category.name
    return text if len(text) <= _TITLE_LENGTH else text[: _TITLE_LENGTH - 1] + "…"


def _messages(exc: ValidationError | PermissionDenied) -> list[str]:
    if isinstance(exc, PermissionDenied):
        return [str(exc) or _("Not allowed.")]
    if hasattr(exc, "error_dict"):
        out = []
        for field, messages in exc.message_dict.items():
            parameter = _PARAMETERS.get(field, "")
            out += [f"{parameter}: {m}" if parameter else m for m in messages]
        return out
    return list(exc.messages)


def _building(raw: str, community: Community, errors: list[str]) -> Building | None:
    if not raw:
        return None
    building = None
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        building = Building.objects.filter(pk=int(raw), estate__community=community).first()
    if building is None:
        errors.append(_("address_id %(id)s was not found.") % {"id": raw[:32]})
    return building


def _notice(category: Category, community: Community) -> str:
    policy = policy_for(category)
    if policy is None:
        return _("%(community)s has received the request.") % {"community": community.name}
    return _("%(community)s has received the request; it is handled under “%(policy)s”.") % {
        "community": community.name,
        "policy": policy.name,
    }


def _request_create(request: HttpRequest, fmt: str) -> HttpResponse:
    data = request.POST
    client = open311_client_for_key(data.get("api_key") or request.GET.get("api_key"))
    if client is None:
        raise Open311Error(403, _("Missing or invalid api_key."))
    wait = open311_throttle_wait(request, kind="key", ident=str(client.pk))
    if wait is not None:
        return _too_many(fmt, wait)
    community = client.community
    jurisdiction = _jurisdiction(data)
    if jurisdiction is not None and jurisdiction.pk != community.pk:
        raise Open311Error(
            403,
            _("This api_key does not file requests in jurisdiction %(id)s.")
            % {"id": jurisdiction.code},
        )
    code = (data.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, _("service_code was not provided."))
    category = selectors.open311_service(code)
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.") % {"code": code[:64]})

    errors: list[str] = []
    lat, lng = (data.get("lat") or "").strip(), (data.get("long") or "").strip()
    if bool(lat) != bool(lng):
        errors.append(_("lat and long must be sent together."))
    address = (data.get("address_string") or "").strip()
    building = _building((data.get("address_id") or "").strip(), community, errors)
    if not (lat and lng) and not address and building is None and not errors:
        errors.append(_("A location is required: lat and long, address_string or address_id."))
    description = (data.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors.append(_("description is limited to %(n)s characters.") % {"n": MAX_DESCRIPTION})
    answers = attributes_from(data)
    try:
        category_attributes_clean(category, answers)
    except ValidationError as exc:
        errors += _messages(exc)
    if errors:
        raise Open311Error(400, *errors)

    try:
        grievance = grievance_file(
            community=community,
            category=category,
            title=_title(description, category),
            description=description or category.name,
            channel=Grievance.Channel.OPEN311,
            submitted_by=None,
            building=building,
            caller_name=personal_name(data.get("first_name") or "", data.get("last_name") or ""),
            caller_phone=(data.get("phone") or "").strip(),
            latitude=lat or None,
            longitude=lng or None,
            address=address,
            attributes=answers,
            now=timezone.now(),
            source_ref=f"open311:{client.pk}",
        )
    except (ValidationError, PermissionDenied) as exc:
        raise Open311Error(400, *_messages(exc)) from exc
    created = created_data(
        grievance,
        notice=_notice(category, community),
        # Echoed back, never stored: the client's own account id means nothing to us.
        account_id=(data.get("account_id") or "").strip()[:64],
    )
    return render(fmt, "service_requests", [created])
