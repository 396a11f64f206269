"""Phone pages of the volunteers app, under /volunteers/."""

from __future__ import annotations

from django.urls import include, path

from volunteers.views import hours, leader, volunteer

app_name = "volunteers"

urlpatterns = [
    path("", volunteer.home, name="home"),
    path("hours/", hours.my_hours, name="hours"),
    path("activities/<int:pk>/sign-up/", volunteer.signup, name="signup"),
    path("sign-ups/<int:pk>/cancel/", volunteer.cancel, name="cancel"),
    path("activities/<int:pk>/check-in/<str:token>/", volunteer.check_in_page, name="check-in"),
    path("activities/<int:pk>/check-in/<str:token>/go/", volunteer.check_in, name="check-in-post"),
    path("activities/<int:pk>/run/", leader.activity_page, name="activity"),
    path("activities/<int:pk>/run/sheet/", leader.sign_in_sheet, name="sheet"),
    path("activities/<int:pk>/run/<slug:action>/", leader.activity_action, name="activity-action"),
    path("office/", include("volunteers.urls_office")),
    path("", include("volunteers.urls_party")),
]
