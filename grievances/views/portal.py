"""My reports (我的诉求): a resident's and their household's grievances; for grid workers
and the hotline, what they filed themselves."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from grievances.selectors.f1_intake import (
    grievances_filed_by_me,
    grievances_of_my_household,
    intake_roles,
)

PAGE_SIZE = 20
HOUSEHOLD, FILED = "household", "filed"


@login_required
@require_GET
def grievance_mine_page(request: HttpRequest) -> HttpResponse:
    """Newest first, 20 a page; resolved ones waiting for my rating stand out."""
    roles = intake_roles(user=request.user)
    lists = []
    if roles.resident is not None:
        lists.append(HOUSEHOLD)
    if roles.grid_ids or roles.office_community_ids:
        lists.append(FILED)
    if not lists:
        return render(request, "grievances/intake/no_access.html", status=403)
    wanted = request.GET.get("list", "")
    shown = wanted if wanted in lists else lists[0]
    if shown == HOUSEHOLD:
        grievances = grievances_of_my_household(user=request.user)
    else:
        grievances = grievances_filed_by_me(user=request.user)
    page = Paginator(grievances, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "grievances/portal/mine.html",
        {"page": page, "lists": lists, "shown": shown, "resident": roles.resident},
    )
