"""Pages of the credit app; each part keeps its routes in its own module."""

from django.urls import include, path

app_name = "credit"

urlpatterns = [
    path("", include("credit.views.urls_supermarket")),
    path("", include("credit.views.urls_requests")),
    path("", include("credit.views.urls_boards")),
]
