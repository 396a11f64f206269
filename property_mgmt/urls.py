"""Pages of property management, under /property/ (one route module per part)."""

from __future__ import annotations

from django.urls import include, path

app_name = "property"

urlpatterns = [
    path("", include("property_mgmt.urls_fees")),
    path("", include("property_mgmt.urls_surveys")),
    path("", include("property_mgmt.urls_funds")),
]
