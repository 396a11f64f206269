"""Intake pages (受理登记): one form for residents, grid workers and the hotline, the
suggestion box (意见箱), and the htmx parts they use (duplicates, units, residents,
the category's extra questions).

Who files shapes the form (`mode`): a resident on the portal (at home or elsewhere in
their community), a grid worker on a phone (a building of their grids, GPS, a patrol
finding or on behalf of a resident), the office typing in a hotline call. The intake
service decides whether this person may file this way; the page only offers what their
roles reach.

A dropped connection must not lose a report (static/js/grievance_draft.js keeps the
typed text on the phone and submits with fetch()). A response can also be lost *after*
the grievance was saved; the retry must then not file it twice. So every form carries a
`submission_key` (kept in the draft); the first POST with a key claims it in the cache,
and the grievance it filed answers every later POST with the same key.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from community.models import Building, Community, Resident, Unit
from config.throttling import _counter
from grievances.attachments import MAX_PHOTOS, max_bytes
from grievances.models import Category, Grievance
from grievances.selectors import grievance_detail, grievance_possible_duplicates
from grievances.selectors.f1_intake import (
    HOTLINE,
    RESIDENT,
    RESIDENT_MATCHES,
    WORKER,
    IntakeRoles,
    intake_buildings,
    intake_categories,
    intake_category_get,
    intake_communities,
    intake_resident_get,
    intake_residents,
    intake_roles,
    intake_units,
)
from grievances.services.intake import grievance_file
from grievances.views.intake_forms import GrievanceForm, SuggestionForm, mark_invalid

Channel = Grievance.Channel
#: How long a submission key remembers the grievance it filed (a retry a day later still
#: finds it), and how long a claim may stay unanswered (a request that died midway).
SUBMISSION_REMEMBERED = 24 * 3600
SUBMISSION_CLAIM = 120
_PENDING = "pending"
#: Anonymous suggestions per resident and hour: nothing stored names the writer, so a
#: flood could not be traced back afterwards; named ones are not limited.
ANONYMOUS_SUGGESTIONS_PER_HOUR = 5
DUPLICATES_SHOWN = 5
DUPLICATE_DAYS = 7
#: Which errors of the intake service belong to which field of the form.
_ERROR_FIELDS = {
    "photo_too_big": "photos",
    "photo_empty": "photos",
    "photo_type": "photos",
    "photo_pixels": "photos",
    "photo_count": "photos",
    "category": "category",
    "category_parent": "category",
    "location_mismatch": "building",
    "location_community": "building",
    "location_required": "building",
    "reporter": "resident",
    "reporter_household": "resident",
}
MODE_CHANNELS = {
    Channel.PORTAL: RESIDENT,
    Channel.GRID_WORKER: WORKER,
    Channel.PATROL: WORKER,
    Channel.HOTLINE: HOTLINE,
}


# --- who files --------------------------------------------------------------------------


def _no_community(request: HttpRequest) -> HttpResponse:
    """The page for someone no community knows: why they cannot file, and whom to ask."""
    return render(request, "grievances/intake/no_access.html", status=403)


def _mode(request: HttpRequest, roles: IntakeRoles) -> str:
    wanted = request.POST.get("mode") or request.GET.get("mode") or ""
    return wanted if wanted in roles.modes else roles.modes[0]


def _office_community(request: HttpRequest, roles: IntakeRoles) -> int | None:
    """The community a hotline call is typed in for: the one asked for, else the first."""
    wanted = request.POST.get("community") or request.GET.get("community") or ""
    if wanted.isdigit() and int(wanted) in roles.office_community_ids:
        return int(wanted)
    return min(roles.office_community_ids) if roles.office_community_ids else None


def _community_id(request: HttpRequest, roles: IntakeRoles, mode: str) -> int | None:
    if mode == RESIDENT:
        return roles.home_community_id
    if mode == HOTLINE:
        return _office_community(request, roles)
    return None  # a grid worker's: that of the building picked


def draft_key(user: Any, mode: str) -> str:
    """Where the phone keeps this person's draft for this form (static/js/grievance_draft.js)."""
    return f"linli.grievance-draft.{user.pk}.{mode}"


def _is_fetch(request: HttpRequest) -> bool:
    return request.headers.get("X-Linli-Draft") == "1"


# --- the form ---------------------------------------------------------------------------


def _service_errors(form: GrievanceForm, exc: ValidationError) -> None:
    """Put the service's refusal next to the field it is about (or above the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            # A hidden field (the position) cannot show its error: put it above the form.
            shown = field in form.fields and not form.fields[field].widget.is_hidden
            target = field if shown else None
            for error in errors:
                form.add_error(target, error)
        return
    for error in exc.error_list:
        form.add_error(_ERROR_FIELDS.get(error.code or ""), error)


def _claim(user: Any, key: str) -> tuple[str, int | None]:
    """Claim a submission key: ("new", None), ("filed", pk) or ("pending", None)."""
    cache_key = f"linli:grievance-submission:{user.pk}:{key}"
    if cache.add(cache_key, _PENDING, SUBMISSION_CLAIM):
        return "new", None
    value = cache.get(cache_key)
    if isinstance(value, int):
        return "filed", value
    return "pending", None


def _claim_end(user: Any, key: str, pk: int | None) -> None:
    cache_key = f"linli:grievance-submission:{user.pk}:{key}"
    if pk is None:
        cache.delete(cache_key)
    else:
        cache.set(cache_key, pk, SUBMISSION_REMEMBERED)


def _render_form(
    request: HttpRequest,
    *,
    form: GrievanceForm,
    roles: IntakeRoles,
    mode: str,
    community_id: int | None,
    chosen_resident: Resident | None = None,
    status: int = 200,
) -> HttpResponse:
    resident = roles.resident
    mark_invalid(form)
    return render(
        request,
        "grievances/intake/file.html",
        {
            "form": form,
            "mode": mode,
            "modes": roles.modes,
            "home": resident.household if resident is not None and mode == RESIDENT else None,
            "communities": intake_communities(roles=roles) if mode == HOTLINE else [],
            "community_id": community_id,
            "chosen_resident": chosen_resident,
            "draft_key": draft_key(request.user, mode),
            "max_photos": MAX_PHOTOS,
            "max_photo_bytes": max_bytes(),
            "max_photo_mb": max_bytes() // (1024 * 1024),
            "photos_dropped": form.is_bound and bool(request.FILES) and not _is_fetch(request),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def grievance_file_page(request: HttpRequest) -> HttpResponse:
    """File a grievance (我要报事): the form shaped by who files; PRG to the filed page."""
    roles = intake_roles(user=request.user)
    if not roles.modes:
        return _no_community(request)
    mode = _mode(request, roles)
    community_id = _community_id(request, roles, mode)
    categories = intake_categories()
    buildings = intake_buildings(roles=roles, mode=mode, community_id=community_id)
    if request.method != "POST":
        form = GrievanceForm(mode=mode, categories=categories, buildings=buildings, category=None)
        return _render_form(request, form=form, roles=roles, mode=mode, community_id=community_id)

    data = request.POST
    try:
        category: Category | None = intake_category_get(pk=data.get("category"))
    except Category.DoesNotExist:
        category = None
    units = (
        intake_units(buildings=buildings, building_id=data.get("building"))
        if mode != RESIDENT
        else Unit.objects.none()
    )
    form = GrievanceForm(
        data,
        request.FILES,
        mode=mode,
        categories=categories,
        buildings=buildings,
        category=category,
        units=units,
    )
    chosen: Resident | None = None
    if mode in (WORKER, HOTLINE) and data.get("resident"):
        try:
            chosen = intake_resident_get(
                user=request.user,
                pk=data.get("resident"),
                community_id=community_id if mode == HOTLINE else None,
                grid_ids=roles.grid_ids if mode == WORKER else None,
            )
        except Resident.DoesNotExist:
            chosen = None

    def again(status: int) -> HttpResponse:
        return _render_form(
            request,
            form=form,
            roles=roles,
            mode=mode,
            community_id=community_id,
            chosen_resident=chosen,
            status=status,
        )

    if not form.is_valid():
        return again(400)
    cleaned = form.cleaned_data
    building: Building | None = None
    if cleaned.get("building") and (mode != RESIDENT or cleaned.get("where") == "elsewhere"):
        building = buildings.filter(pk=cleaned["building"]).first()
        if building is None:
            form.add_error("building", _("Choose a building from the list."))
    unit: Unit | None = None
    if building is not None and cleaned.get("unit"):
        unit = units.filter(pk=cleaned["unit"]).first()
    reporter: Resident | None = None
    on_behalf = mode == HOTLINE or (mode == WORKER and cleaned.get("source") == "resident")
    if on_behalf and cleaned.get("resident"):
        if chosen is None:
            form.add_error("resident", _("Pick the resident from the search results."))
        reporter = chosen
    if category is None:
        form.add_error("category", _("Choose a more specific category."))
    if form.errors:
        return again(400)
    assert category is not None

    if mode == RESIDENT:
        assert roles.resident is not None
        community = roles.resident.household.unit.building.estate.community
        channel = Channel.PORTAL
    elif mode == WORKER:
        assert building is not None
        community = Community.objects.get(pk=building.estate.community_id)
        channel = Channel.GRID_WORKER if cleaned.get("source") == "resident" else Channel.PATROL
    else:
        assert community_id is not None
        community = intake_communities(roles=roles).get(pk=community_id)
        channel = Channel.HOTLINE

    key = (cleaned.get("submission_key") or "").strip()
    if key:
        state, filed_pk = _claim(request.user, key)
        if state == "filed":
            return redirect("grievances:filed", pk=filed_pk)
        if state == "pending":
            form.add_error(
                None, _("This report is still being sent. Wait a moment, then look at My reports.")
            )
            return again(409)
    worker_position = mode == WORKER
    filed: Grievance | None = None
    refused = 400
    try:
        filed = grievance_file(
            community=community,
            category=category,
            title=cleaned["title"],
            description=cleaned["description"],
            channel=channel,
            submitted_by=request.user,
            now=timezone.now(),
            reporter=reporter if mode != RESIDENT else None,
            building=building,
            unit=unit,
            caller_name=cleaned.get("caller_name", "") if mode == HOTLINE else "",
            caller_phone=cleaned.get("caller_phone", "") if mode == HOTLINE else "",
            latitude=cleaned.get("latitude") if worker_position else None,
            longitude=cleaned.get("longitude") if worker_position else None,
            address=cleaned.get("address", ""),
            attributes=form.attributes(),
            photos=cleaned.get("photos") or [],
        )
    except ValidationError as exc:
        _service_errors(form, exc)
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or _("You may not file grievances this way."))
        refused = 403
    finally:
        if key:  # remember what this key filed, or free it for the corrected retry
            _claim_end(request.user, key, filed.pk if filed is not None else None)
    if filed is None:
        return again(refused)
    return redirect("grievances:filed", pk=filed.pk)


@login_required
@require_GET
def grievance_filed_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The grievance was filed: its number, what happens next, where to follow it."""
    try:
        grievance = grievance_detail(user=request.user, pk=pk)
    except Grievance.DoesNotExist:
        raise Http404 from None
    mode = MODE_CHANNELS.get(Channel(grievance.channel), RESIDENT)
    return render(
        request,
        "grievances/intake/filed.html",
        {"grievance": grievance, "draft_key": draft_key(request.user, mode), "mode": mode},
    )


# --- htmx parts of the form ---------------------------------------------------------------


def _roles_for_part(request: HttpRequest, *, work_only: bool = False) -> tuple[IntakeRoles, str]:
    roles = intake_roles(user=request.user)
    if not roles.modes:
        raise PermissionDenied
    mode = _mode(request, roles)
    if work_only and mode == RESIDENT:
        raise Http404
    return roles, mode


@login_required
@require_GET
def grievance_duplicates(request: HttpRequest) -> HttpResponse:
    """Open grievances of this category at this building in the last days (htmx part):
    shown before submitting; the form stays submittable (the office merges)."""
    roles, mode = _roles_for_part(request)
    try:
        category = intake_category_get(pk=request.GET.get("category"))
    except Category.DoesNotExist:
        category = None
    building: Building | None = None
    raw = request.GET.get("building", "")
    at_home = mode == RESIDENT and request.GET.get("where", "home") != "elsewhere"
    if at_home and roles.resident is not None:
        building = roles.resident.household.unit.building
    elif raw.isdigit():
        community_id = _community_id(request, roles, mode)
        building = (
            intake_buildings(roles=roles, mode=mode, community_id=community_id)
            .filter(pk=int(raw))
            .first()
        )
    duplicates: list[Grievance] = []
    if category is not None and building is not None:
        duplicates = list(
            grievance_possible_duplicates(
                user=request.user,
                category=category,
                building=building,
                now=timezone.now(),
                days=DUPLICATE_DAYS,
            )[:DUPLICATES_SHOWN]
        )
    return render(
        request,
        "grievances/intake/_duplicates.html",
        {"duplicates": duplicates, "building": building, "days": DUPLICATE_DAYS},
    )


@login_required
@require_GET
def grievance_file_units(request: HttpRequest) -> HttpResponse:
    """The units of the building picked (htmx part of the worker's and hotline form)."""
    roles, mode = _roles_for_part(request, work_only=True)
    buildings = intake_buildings(
        roles=roles, mode=mode, community_id=_community_id(request, roles, mode)
    )
    units = list(intake_units(buildings=buildings, building_id=request.GET.get("building")))
    return render(request, "grievances/intake/_units.html", {"units": units})


@login_required
@require_GET
def grievance_file_residents(request: HttpRequest) -> HttpResponse:
    """Residents matching a name or a phone's last 4 digits, in the building picked
    (worker) or the community (hotline): the "on behalf of" picker (htmx part)."""
    roles, mode = _roles_for_part(request, work_only=True)
    search = request.GET.get("resident_q", "").strip()[:50]
    community_id = _community_id(request, roles, mode)
    if mode == WORKER:
        # Only the worker's grids, even if the worker lives elsewhere themselves.
        matches = intake_residents(
            user=request.user,
            search=search,
            building_id=request.GET.get("building", ""),
            grid_ids=roles.grid_ids,
        )
    else:
        matches = intake_residents(user=request.user, search=search, community_id=community_id)
    return render(
        request,
        "grievances/intake/_residents.html",
        {"matches": list(matches[:RESIDENT_MATCHES]), "search": search, "mode": mode},
    )


@login_required
@require_GET
def grievance_file_questions(request: HttpRequest) -> HttpResponse:
    """The extra questions of the category picked (htmx part)."""
    _roles, mode = _roles_for_part(request)
    try:
        category: Category | None = intake_category_get(pk=request.GET.get("category"))
    except Category.DoesNotExist:
        category = None
    form = GrievanceForm(mode=mode, categories=[], buildings=[], category=category)
    return render(request, "grievances/intake/_questions.html", {"form": form})


# --- the suggestion box -----------------------------------------------------------------


def _suggest_modes(roles: IntakeRoles) -> list[str]:
    modes = []
    if roles.resident is not None:
        modes.append(RESIDENT)
    if roles.office_community_ids:
        modes.append(HOTLINE)  # the office copying a paper slip
    return modes


def _suggest_render(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    mark_invalid(context["form"])
    return render(request, "grievances/intake/suggest.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def grievance_suggest_page(request: HttpRequest) -> HttpResponse:
    """The suggestion box (意见箱): a resident's suggestion, signed or anonymous; the
    office copies paper slips here."""
    roles = intake_roles(user=request.user)
    modes = _suggest_modes(roles)
    if not modes:
        return _no_community(request)
    wanted = request.POST.get("mode") or request.GET.get("mode") or ""
    mode = wanted if wanted in modes else modes[0]
    community_id = _community_id(request, roles, mode)
    categories = intake_categories(suggestion=True)
    form = SuggestionForm(request.POST if request.method == "POST" else None, categories=categories)
    context: dict[str, Any] = {
        "form": form,
        "mode": mode,
        "modes": modes,
        "configured": bool(categories),
        "communities": intake_communities(roles=roles) if mode == HOTLINE else [],
        "community_id": community_id,
    }
    if request.method != "POST" or not categories:
        return _suggest_render(request, context)
    if not form.is_valid():
        return _suggest_render(request, context, 400)
    cleaned = form.cleaned_data
    anonymous = bool(cleaned.get("anonymous"))
    try:
        category = intake_category_get(pk=cleaned["category"], suggestion=True)
    except Category.DoesNotExist:
        form.add_error("category", _("Choose one of the listed topics."))
        return _suggest_render(request, context, 400)
    if anonymous and mode == RESIDENT:
        wait = _counter("grievance-suggest-anonymous").hit(
            f"user:{request.user.pk}", time.monotonic(), ANONYMOUS_SUGGESTIONS_PER_HOUR, 3600
        )
        if wait is not None:
            form.add_error(
                None,
                _(
                    "You have sent many anonymous suggestions within an hour. "
                    "Please try again in %(minutes)s minutes, or sign your suggestion."
                )
                % {"minutes": max(1, round(wait / 60))},
            )
            return _suggest_render(request, context, 429)
    if mode == RESIDENT:
        assert roles.resident is not None
        community = roles.resident.household.unit.building.estate.community
    else:
        assert community_id is not None
        community = intake_communities(roles=roles).get(pk=community_id)
    office = mode == HOTLINE
    try:
        grievance = grievance_file(
            community=community,
            category=category,
            title=form.title(),
            description=cleaned["text"],
            channel=Channel.SUGGESTION_BOX,
            submitted_by=request.user,
            now=timezone.now(),
            is_anonymous=anonymous,
            caller_name=cleaned.get("writer_name", "") if office else "",
            caller_phone=cleaned.get("writer_phone", "") if office else "",
        )
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _suggest_render(request, context, 400)
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or _("You may not use the suggestion box here."))
        return _suggest_render(request, context, 403)
    # The thanks page reads what to say from the session. An anonymous suggestion's
    # number stays out of it: the session row would link it to its writer.
    request.session["grievance_suggested"] = {
        "pk": None if anonymous and not office else grievance.pk,
        "anonymous": anonymous,
        "office": office,
    }
    return redirect(reverse("grievances:suggest-thanks"))


@login_required
@require_GET
def grievance_suggest_thanks(request: HttpRequest) -> HttpResponse:
    """Thanks for the suggestion: its number, and what the office does with it."""
    sent = request.session.get("grievance_suggested")
    if not isinstance(sent, dict):
        return redirect("grievances:suggest")
    return render(request, "grievances/intake/suggested.html", {"sent": sent})
