"""Pages of the scorecards (物业考核) and the black list (挂黑榜): the office computes a
quarter's figures of every company and publishes one company's scorecard; it confirms
(with evidence), dismisses or removes (with a reason) black-list entries; a company's
staff respond to theirs; everyone of the community reads the public board (printable).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from community.models import Organization
from property_mgmt.models import BlacklistEntry
from property_mgmt.selectors import scorecards as selectors
from property_mgmt.selectors import surveys_pages as pages
from property_mgmt.services import scorecards as services
from property_mgmt.views import surveys_forms as forms
from property_mgmt.views.common import refusal
from property_mgmt.views.surveys import PAGE_SIZE, office_community, percent

Status = BlacklistEntry.Status


def _quarter(raw: str | None) -> tuple[str, Any]:
    today = timezone.localdate()
    if raw:
        try:
            return raw.strip().upper(), forms.parse_quarter(raw)
        except ValidationError:
            pass
    # The quarter just finished: the usual one to judge (the current one is not over).
    previous = forms.recent_quarters(today, 2)[1]
    return previous, forms.parse_quarter(previous)


def _query(**params: Any) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items() if v not in (None, ""))


# --- scorecards ---------------------------------------------------------------------


@login_required
@require_safe
def scorecard_office(request: HttpRequest) -> HttpResponse:
    communities, community = office_community(request)
    quarter, period = _quarter(request.GET.get("quarter"))
    figures = selectors.scorecards_compute_all(
        community=community, period_start=period[0], period_end=period[1], now=timezone.now()
    )
    published = pages.published_provider_ids(community=community, period=period)
    rows = [
        {
            "figures": f,
            "on_time": percent(f.on_time_rate),
            "reopen": percent(f.reopen_rate),
            "collection": percent(f.collection_rate),
            "published": f.provider_id in published,
        }
        for f in figures
    ]
    return render(
        request,
        "property_mgmt/scorecards/office.html",
        {
            "communities": communities,
            "community": community,
            "quarter": quarter,
            "period": period,
            "quarters": forms.recent_quarters(timezone.localdate()),
            "rows": rows,
            "section": "scorecards",
        },
    )


@login_required
@require_POST
def scorecard_publish(request: HttpRequest) -> HttpResponse:
    _communities, community = office_community(request)
    quarter, period = _quarter(request.POST.get("quarter"))
    back = (
        f"{reverse('property:scorecard-office')}?{_query(community=community.pk, quarter=quarter)}"
    )
    raw = request.POST.get("provider", "")
    try:
        provider = pages.provider_in(
            community=community, provider_id=int(raw) if raw.isdigit() and len(raw) < 18 else 0
        )
    except Organization.DoesNotExist:
        raise Http404 from None
    try:
        services.scorecard_publish(
            actor=request.user,
            community=community,
            provider=provider,
            period_start=period[0],
            period_end=period[1],
            now=timezone.now(),
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(
            request,
            _("Scorecard of %(provider)s for %(quarter)s published.")
            % {"provider": provider.name, "quarter": quarter},
        )
    return redirect(back)


@login_required
@require_safe
def scorecard_list(request: HttpRequest) -> HttpResponse:
    communities, community = office_community(request)
    page = Paginator(pages.published_scorecards(community=community), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "card": card,
            "on_time": percent(card.on_time_rate),
            "reopen": percent(card.reopen_rate),
            "collection": percent(card.collection_rate),
        }
        for card in page.object_list
    ]
    return render(
        request,
        "property_mgmt/scorecards/list.html",
        {
            "communities": communities,
            "community": community,
            "page": page,
            "rows": rows,
            "section": "published",
        },
    )


# --- the black list -----------------------------------------------------------------


@login_required
@require_safe
def blacklist_office(request: HttpRequest) -> HttpResponse:
    communities, community = office_community(request)
    entries = selectors.blacklist_entries(user=request.user, community=community)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "property_mgmt/scorecards/blacklist_office.html",
        {
            "communities": communities,
            "community": community,
            "page": page,
            "section": "blacklist",
        },
    )


@login_required
@require_safe
def blacklist_company(request: HttpRequest) -> HttpResponse:
    if not pages.is_any_property_staff(user=request.user):
        raise Http404
    entries = pages.company_blacklist_entries(user=request.user)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "property_mgmt/scorecards/blacklist_company.html", {"page": page})


#: action → the service and the name of its text argument (the form's one text box).
ACTIONS: dict[str, tuple[Any, str]] = {
    "confirm": (services.blacklist_confirm, "evidence"),
    "dismiss": (services.blacklist_dismiss, "reason"),
    "remove": (services.blacklist_remove, "reason"),
    "respond": (services.blacklist_respond, "response"),
}


@login_required
@require_POST
def blacklist_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    try:
        entry = pages.blacklist_entry_for(user=request.user, pk=pk)
    except BlacklistEntry.DoesNotExist:
        raise Http404 from None
    service, argument = ACTIONS[action]
    done = {
        "confirm": _("The provider is on the black list now."),
        "dismiss": _("The proposal is dismissed."),
        "remove": _("The provider is removed from the black list."),
        "respond": _("Your response is on the public board."),
    }[action]
    try:
        service(
            entry=entry,
            actor=request.user,
            now=timezone.now(),
            **{argument: request.POST.get("text", "")},
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(request, done)
    # Back to the page the user acts from: the company's for its staff responding (or
    # anyone without an office), the office's list otherwise.
    to_company = (action == "respond" and pages.is_any_property_staff(user=request.user)) or (
        not pages.office_communities(user=request.user)
    )
    if to_company:
        return redirect("property:blacklist-company")
    return redirect(
        f"{reverse('property:blacklist-office')}?{_query(community=entry.community_id)}"
    )


@login_required
@require_safe
def blacklist_board(request: HttpRequest) -> HttpResponse:
    communities = pages.member_communities(user=request.user)
    community = pages.pick_community(communities, request.GET.get("community"))
    if community is None:
        raise Http404
    printable = request.GET.get("print") == "1"
    return render(
        request,
        "property_mgmt/scorecards/board_print.html"
        if printable
        else "property_mgmt/scorecards/board.html",
        {
            "communities": communities,
            "community": community,
            "rows": selectors.public_blacklist(community=community),
            "now": timezone.now(),
        },
    )
