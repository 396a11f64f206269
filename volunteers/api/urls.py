"""Routes of /api/v1/volunteers/."""

from __future__ import annotations

from django.urls import URLPattern, path

from volunteers.api import activities as volunteer
from volunteers.api import leader

app_name = "volunteers-api"

ROSTER = "activities/<int:pk>/roster/<int:signup_id>/"
ATTENDANCE = "activities/<int:pk>/attendances/<int:attendance_id>/"

urlpatterns: list[URLPattern] = [
    path("activities/", volunteer.ActivityListCreateApi.as_view(), name="activities"),
    path("activities/managed/", leader.ManagedActivitiesApi.as_view(), name="managed"),
    path("activities/<int:pk>/", volunteer.ActivityDetailApi.as_view(), name="activity"),
    path("activities/<int:pk>/sign-up/", volunteer.SignUpApi.as_view(), name="sign-up"),
    path("activities/<int:pk>/check-in/", volunteer.CheckInApi.as_view(), name="check-in"),
    path("activities/<int:pk>/check-out/", volunteer.CheckOutApi.as_view(), name="check-out"),
    path("activities/<int:pk>/roster/", leader.RosterApi.as_view(), name="roster"),
    path(ROSTER + "check-in/", leader.RosterCheckInApi.as_view(), name="roster-check-in"),
    path(ROSTER + "check-out/", leader.RosterCheckOutApi.as_view(), name="roster-check-out"),
    path(ROSTER + "no-show/", leader.RosterNoShowApi.as_view(), name="roster-no-show"),
    path(ATTENDANCE + "correct/", leader.AttendanceCorrectApi.as_view(), name="correct"),
    path(ATTENDANCE + "confirm/", leader.AttendanceConfirmApi.as_view(), name="confirm"),
    path("sign-ups/", volunteer.MySignUpsApi.as_view(), name="sign-ups"),
    path("sign-ups/<int:pk>/cancel/", volunteer.SignUpCancelApi.as_view(), name="cancel"),
    path("hours/", volunteer.MyHoursApi.as_view(), name="hours"),
    path("stats/", leader.StatsApi.as_view(), name="stats"),
]
