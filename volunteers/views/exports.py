"""Downloads of the volunteers office: the team rosters, the year's hours ledger (台账)
and the per-member report for an employer unit, as Excel workbooks with masked phones.
Only the community's staff may download; anyone else gets a 404."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from typing import IO

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from community.registry_export import content_disposition
from volunteers import exports
from volunteers.selectors import office as office_selectors
from volunteers.selectors.party import registered_members
from volunteers.selectors.stats import hours_statistics
from volunteers.views.party import chosen_year, office_community

logger = logging.getLogger(__name__)


def _download(
    write: Callable[[IO[bytes]], int], name: str, fallback: str, what: str, request: HttpRequest
) -> HttpResponseBase:
    target = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    rows = write(target)
    target.seek(0)
    logger.info("volunteers %s export by user %s: %s rows", what, request.user.pk, rows)
    response = FileResponse(target, content_type=exports.XLSX)
    response["Content-Disposition"] = content_disposition(name, fallback)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def roster(request: HttpRequest) -> HttpResponseBase:
    """Every team's current members of the community."""
    community = office_community(request)
    members = office_selectors.roster_export_list(user=request.user, community=community)
    today = timezone.localdate()
    return _download(
        lambda target: exports.roster_workbook_write(
            members=members.iterator(chunk_size=1000), target=target
        ),
        _("volunteer-rosters_%(community)s_%(date)s.xlsx")
        % {"community": exports.safe_file_part(community.name), "date": f"{today:%Y%m%d}"},
        f"volunteer-rosters-{today:%Y%m%d}.xlsx",
        "roster",
        request,
    )


@login_required
@require_GET
def hours(request: HttpRequest) -> HttpResponseBase:
    """The year's confirmed attendances, one row each, and the totals by team, month, post."""
    community = office_community(request)
    year = chosen_year(request)
    stats = hours_statistics(user=request.user, community=community, year=year)
    if stats is None:  # office_community already checked; a second guard costs nothing
        raise Http404
    ledger = office_selectors.hours_ledger(user=request.user, community=community, year=year)
    return _download(
        lambda target: exports.hours_workbook_write(
            attendances=ledger.iterator(chunk_size=1000), stats=stats, target=target
        ),
        _("volunteer-hours_%(community)s_%(year)s.xlsx")
        % {"community": exports.safe_file_part(community.name), "year": year},
        f"volunteer-hours-{year}.xlsx",
        "hours",
        request,
    )


@login_required
@require_GET
def employer(request: HttpRequest) -> HttpResponseBase:
    """One employer unit's confirmed party members with their hours per quarter."""
    community = office_community(request)
    year = chosen_year(request)
    unit = request.GET.get("employer", "").strip()
    if not unit:
        return HttpResponseBadRequest(_("Choose an employer unit."))
    members = registered_members(
        user=request.user, community=community, year=year, now=timezone.now(), employer=unit
    )
    if members is None:
        raise Http404
    return _download(
        lambda target: exports.employer_workbook_write(members=members, target=target),
        _("party-members_%(employer)s_%(year)s.xlsx")
        % {"employer": exports.safe_file_part(unit), "year": year},
        f"party-members-{year}.xlsx",
        "employer",
        request,
    )
