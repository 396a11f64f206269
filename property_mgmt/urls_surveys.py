"""Pages of property management: surveys, scorecards and the black list (included by
property_mgmt/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from property_mgmt.views import scorecards, surveys

urlpatterns: list[URLPattern | URLResolver] = [
    # The resident's phone page and the grid worker's.
    path("surveys/", surveys.survey_portal, name="survey-portal"),
    path(
        "surveys/<int:pk>/answer/<int:household_id>/",
        surveys.survey_portal_answer,
        name="survey-answer",
    ),
    path("surveys/grid/", surveys.survey_grid, name="survey-grid"),
    path(
        "surveys/grid/<int:household_id>/<int:pk>/",
        surveys.survey_grid_answer,
        name="survey-grid-answer",
    ),
    # The office.
    path("surveys/office/", surveys.survey_office, name="survey-office"),
    path("surveys/office/new/", surveys.survey_new, name="survey-new"),
    path("surveys/office/<int:pk>/", surveys.survey_results, name="survey-results"),
    path("surveys/office/<int:pk>/<slug:action>/", surveys.survey_action, name="survey-action"),
    path("scorecards/", scorecards.scorecard_office, name="scorecard-office"),
    path("scorecards/publish/", scorecards.scorecard_publish, name="scorecard-publish"),
    path("scorecards/published/", scorecards.scorecard_list, name="scorecard-list"),
    # The black list: the office, the company's staff, the public board.
    path("blacklist/", scorecards.blacklist_board, name="blacklist-board"),
    path("blacklist/office/", scorecards.blacklist_office, name="blacklist-office"),
    path("blacklist/company/", scorecards.blacklist_company, name="blacklist-company"),
    path("blacklist/<int:pk>/<slug:action>/", scorecards.blacklist_action, name="blacklist-action"),
]
