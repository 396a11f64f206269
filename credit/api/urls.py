"""/api/v1/credit/: each part keeps its routes in its own module."""

from django.urls import include, path

app_name = "credit-api"

urlpatterns = [
    path("", include("credit.api.urls_supermarket")),
    path("", include("credit.api.urls_requests")),
    path("", include("credit.api.urls_boards")),
]
