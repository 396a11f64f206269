"""/points/shop/ (the resident's credit supermarket) and /points/clerk/ (the desk)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from credit.views import supermarket as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("shop/", views.shop_catalogue, name="shop-catalogue"),
    path("shop/items/<int:pk>/", views.shop_item, name="shop-item"),
    path("shop/redemptions/", views.shop_redemptions, name="shop-redemptions"),
    path("shop/redemptions/<int:pk>/", views.shop_redemption, name="shop-redemption"),
    path(
        "shop/redemptions/<int:pk>/cancel/",
        views.shop_redemption_cancel,
        name="shop-redemption-cancel",
    ),
    path("clerk/", views.clerk_desk, name="clerk-desk"),
    path("clerk/fulfil/", views.clerk_fulfil, name="clerk-fulfil"),
]
