"""Resident portal pages: my household, the service directory."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from community import selectors


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    households = selectors.household_list(user=request.user)
    members = {
        h.pk: selectors.household_members(user=request.user, household=h) for h in households
    }
    return render(
        request,
        "community/portal/home.html",
        {
            "households": [(h, members[h.pk]) for h in households],
            "contacts": selectors.service_contact_list(user=request.user),
        },
    )
