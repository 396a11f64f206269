"""Pages of the volunteers app under /volunteers/ (office); included by volunteers/urls.py."""

from __future__ import annotations

from django.urls import URLPattern, path

from volunteers.views import office

urlpatterns: list[URLPattern] = [
    path("", office.office_home, name="office"),
    path("teams/", office.teams, name="office-teams"),
    path("teams/<int:pk>/", office.team, name="office-team"),
    path(
        "teams/<int:pk>/members/<int:member>/remove/",
        office.team_member_remove,
        name="office-team-remove",
    ),
    path("calendar/", office.activity_calendar, name="office-calendar"),
    path("activities/new/", office.activity_new, name="office-activity-new"),
    path("confirmations/", office.confirmations, name="office-confirmations"),
    path("confirmations/all/", office.confirm_all, name="office-confirm-all"),
    path("confirmations/<int:pk>/", office.confirm, name="office-confirm"),
    path("statistics/", office.statistics, name="office-stats"),
    path("blocks/", office.blocks, name="office-blocks"),
    path("blocks/<int:pk>/lift/", office.block_lift, name="office-block-lift"),
]
