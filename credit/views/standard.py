"""The public scoring standard page (评定标准公示)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from community.models import Community
from credit.selectors.standard import standard_communities, standard_community, standard_for


def _render(request: HttpRequest, community: Community) -> HttpResponse:
    return render(
        request,
        "credit/standard/page.html",
        {
            "community": community,
            "categories": standard_for(community=community),
            "today": timezone.localdate(),
            "others": standard_communities(user=request.user)
            if request.user.is_authenticated
            else [],
        },
    )


@login_required
def standard_mine(request: HttpRequest) -> HttpResponse:
    """The standard of the community the logged-in user lives or works in."""
    code = request.GET.get("community")
    try:
        if code:
            community = standard_communities(user=request.user).get(code=code)
        else:
            community = standard_community(user=request.user)
    except Community.DoesNotExist:
        raise Http404 from None
    return _render(request, community)


def standard_public(request: HttpRequest, code: str) -> HttpResponse:
    """Anyone may read a community's standard by its code: it is posted publicly."""
    try:
        community = standard_community(user=request.user, code=code)
    except Community.DoesNotExist:
        raise Http404 from None
    return _render(request, community)
