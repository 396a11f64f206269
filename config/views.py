from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from community.scoping import can_view_registry, scope_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the pages made for them."""
    scope = scope_for(request.user)
    if "grid_worker" in scope.roles:
        return redirect("community:worker-home")
    if "supermarket_clerk" in scope.roles:
        return redirect("credit:clerk-desk")
    if request.user.is_staff and can_view_registry(request.user):
        return redirect("admin:index")
    if scope.household_ids:
        return redirect("community:portal-home")
    if scope.roles & {"property_staff", "partner_staff"}:
        return redirect("grievances:queue")
    return render(request, "home_no_role.html")


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for compose and load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
