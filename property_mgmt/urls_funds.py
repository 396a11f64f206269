"""Pages of property management: funds (included by property_mgmt/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from property_mgmt.views import funds as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("funds/", views.fund_index, name="fund-index"),
    path("funds/office/", views.fund_office, name="fund-office"),
    path("funds/office/<int:estate_id>/", views.fund_setup, name="fund-setup"),
    path("funds/<int:estate_id>/", views.fund_page, name="fund-page"),
    path("funds/<int:estate_id>/entries/", views.fund_entries, name="fund-entries"),
    path("funds/<int:estate_id>/income/", views.fund_income, name="fund-income"),
    path("funds/<int:estate_id>/expenses/new/", views.expense_new, name="fund-expense-new"),
    path("funds/<int:estate_id>/ledger/", views.fund_ledger, name="fund-ledger"),
    path("funds/expenses/<int:pk>/", views.expense_page, name="fund-expense"),
    path(
        "funds/expenses/<int:pk>/<slug:action>/",
        views.expense_action,
        name="fund-expense-action",
    ),
    path("funds/photos/<int:pk>/", views.expense_photo, name="fund-photo"),
    path("funds/entries/<int:pk>/correct/", views.entry_correct, name="fund-entry-correct"),
]
