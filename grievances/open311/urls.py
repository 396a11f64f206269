"""/open311/: service discovery and the GeoReport v2 endpoint (formats by suffix, XML default)."""

from __future__ import annotations

from django.urls import re_path

from grievances.open311 import views

app_name = "open311"

# `.xml` or `.json` after the resource; without a suffix, XML. Codes and ids never hold a
# dot or a slash (category codes are slugs), so the suffix is unambiguous.
_FMT = r"(?:\.(?P<fmt>[A-Za-z0-9]+))?"
_KEY = r"[^/.]+"

urlpatterns = [
    re_path(rf"^discovery{_FMT}$", views.discovery, name="discovery"),
    re_path(r"^v2/?$", views.discovery, name="root"),
    re_path(rf"^v2/services{_FMT}$", views.services, name="services"),
    re_path(
        rf"^v2/services/(?P<service_code>{_KEY}){_FMT}$",
        views.service_definition,
        name="service-definition",
    ),
    re_path(rf"^v2/requests{_FMT}$", views.requests, name="requests"),
    re_path(rf"^v2/requests/(?P<request_id>{_KEY}){_FMT}$", views.request_detail, name="request"),
    re_path(rf"^v2/tokens/(?P<token>{_KEY}){_FMT}$", views.token_detail, name="token"),
    # Anything else under /open311/ answers the spec's 404 document, not an HTML page.
    re_path(r"^(?P<path>.*)$", views.not_found, name="not-found"),
]
