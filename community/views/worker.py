"""Grid worker phone pages (网格员): my grids' buildings and their households."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from community import selectors
from community.models import Building
from community.scoping import can_view_registry


def _require_registry(request: HttpRequest) -> None:
    if not can_view_registry(request.user):
        raise Http404


@login_required
def worker_home(request: HttpRequest) -> HttpResponse:
    _require_registry(request)
    buildings = selectors.building_list(user=request.user)
    page = Paginator(buildings, 30).get_page(request.GET.get("page"))
    grids = selectors.grid_list(user=request.user)
    return render(request, "community/worker/home.html", {"page": page, "grids": grids})


@login_required
def worker_building(request: HttpRequest, pk: int) -> HttpResponse:
    _require_registry(request)
    try:
        building = selectors.building_list(user=request.user).get(pk=pk)
    except Building.DoesNotExist:
        raise Http404 from None
    households = selectors.building_households(user=request.user, building=building)
    page = Paginator(households, 40).get_page(request.GET.get("page"))
    return render(request, "community/worker/building.html", {"building": building, "page": page})
