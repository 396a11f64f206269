"""Pages of the grievances app; each audience keeps its routes in its own module."""

from django.urls import include, path

app_name = "grievances"

urlpatterns = [
    path("", include("grievances.views.urls_staff")),
    path("", include("grievances.views.urls_phone")),
    path("", include("grievances.views.urls_portal")),
]
