"""/api/v1/property/: contracts, bills and payments, surveys, scorecards, the black list,
self-managed funds."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "property-api"

urlpatterns: list[URLPattern | URLResolver] = []
