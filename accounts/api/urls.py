"""Routes of /api/v1/inbox/: my notifications."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from accounts.api import inbox as api

app_name = "inbox-api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", api.InboxListApi.as_view(), name="list"),
    path("<int:pk>/read/", api.InboxReadApi.as_view(), name="read"),
]
