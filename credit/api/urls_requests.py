"""Routes of /api/v1/credit/: my balance and history, manual requests, appeals."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from credit.api import requests as api

urlpatterns: list[URLPattern | URLResolver] = [
    path("me/balance/", api.MyBalanceApi.as_view(), name="me-balance"),
    path("me/history/", api.MyHistoryApi.as_view(), name="me-history"),
    path(
        "me/deductions/<int:pk>/appeal/",
        api.MyDeductionAppealApi.as_view(),
        name="me-deduction-appeal",
    ),
    path("requests/", api.RequestCreateApi.as_view(), name="request-create"),
    path("requests/<int:pk>/approve/", api.RequestApproveApi.as_view(), name="request-approve"),
    path("requests/<int:pk>/reject/", api.RequestRejectApi.as_view(), name="request-reject"),
    path("appeals/<int:pk>/decide/", api.AppealDecideApi.as_view(), name="appeal-decide"),
]
