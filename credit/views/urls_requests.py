"""Routes of the points pages: my points (resident) and the office workbench."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from credit.views import requests as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.points_home, name="points-home"),
    path("deductions/<int:pk>/appeal/", views.points_appeal, name="points-appeal"),
    path("staff/", views.staff_workbench, name="points-staff"),
    path("staff/residents/", views.staff_resident_search, name="points-staff-residents"),
    path("staff/requests/", views.staff_request_create, name="points-staff-request-create"),
    path(
        "staff/requests/<int:pk>/approve/",
        views.staff_request_approve,
        name="points-staff-request-approve",
    ),
    path(
        "staff/requests/<int:pk>/reject/",
        views.staff_request_reject,
        name="points-staff-request-reject",
    ),
    path(
        "staff/appeals/<int:pk>/decide/",
        views.staff_appeal_decide,
        name="points-staff-appeal-decide",
    ),
    path("staff/export.xlsx", views.staff_export_xlsx, name="points-staff-export"),
    path(
        "staff/redemptions.xlsx",
        views.staff_redemptions_xlsx,
        name="points-staff-redemptions-export",
    ),
]
