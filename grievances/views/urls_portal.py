"""Routes of intake and the resident's side: file, suggestion box, my reports."""

from __future__ import annotations

from django.urls import URLPattern, path

from grievances.views import intake, portal

urlpatterns: list[URLPattern] = [
    path("new/", intake.grievance_file_page, name="file"),
    path("new/done/<int:pk>/", intake.grievance_filed_page, name="filed"),
    path("new/units/", intake.grievance_file_units, name="file-units"),
    path("new/residents/", intake.grievance_file_residents, name="file-residents"),
    path("new/questions/", intake.grievance_file_questions, name="file-questions"),
    path("duplicates/", intake.grievance_duplicates, name="duplicates"),
    path("suggest/", intake.grievance_suggest_page, name="suggest"),
    path("suggest/thanks/", intake.grievance_suggest_thanks, name="suggest-thanks"),
    path("mine/", portal.grievance_mine_page, name="mine"),
]
