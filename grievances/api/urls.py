"""Routes of /api/v1/grievances/."""

from __future__ import annotations

from django.urls import URLPattern, path

from grievances.api import actions
from grievances.api import grievances as views

app_name = "grievances-api"

urlpatterns: list[URLPattern] = [
    path("", views.GrievanceListCreateApi.as_view(), name="list"),
    path("categories/", views.CategoryListApi.as_view(), name="categories"),
    path("duplicates/", views.DuplicatesApi.as_view(), name="duplicates"),
    path("<int:pk>/", views.GrievanceDetailApi.as_view(), name="detail"),
    path("<int:pk>/accept/", actions.AcceptApi.as_view(), name="accept"),
    path("<int:pk>/dispatch/", actions.DispatchApi.as_view(), name="dispatch"),
    path("<int:pk>/dispatch/accept/", actions.DispatchAcceptApi.as_view(), name="dispatch-accept"),
    path(
        "<int:pk>/dispatch/decline/", actions.DispatchDeclineApi.as_view(), name="dispatch-decline"
    ),
    path("<int:pk>/check-in/", actions.CheckInApi.as_view(), name="check-in"),
    path("<int:pk>/resolve/", actions.ResolveApi.as_view(), name="resolve"),
    path("<int:pk>/rate/", actions.RateApi.as_view(), name="rate"),
]
