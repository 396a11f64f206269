"""/api/v1/credit/shop/… and /api/v1/credit/clerk/…: the credit supermarket."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from credit.api import supermarket as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("shop/items/", views.CatalogueApi.as_view(), name="shop-item-list"),
    path("shop/redemptions/", views.RedemptionListCreateApi.as_view(), name="shop-redemption-list"),
    path("clerk/fulfil/", views.ClerkFulfilApi.as_view(), name="clerk-fulfil"),
]
