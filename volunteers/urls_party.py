"""Pages of the volunteers app under /volunteers/ (party); included by volunteers/urls.py.

Party members reporting in (下沉党员报到): the member's registration and post pages, the
office's registrations page, and the office's Excel downloads (rosters, hours, employer).
"""

from __future__ import annotations

from django.urls import URLPattern, path

from volunteers.views import exports, party

urlpatterns: list[URLPattern] = [
    path("party/register/", party.register, name="party-register"),
    path("party/mine/", party.mine, name="party-mine"),
    path("office/party/", party.registrations, name="party-registrations"),
    path("office/party/<int:pk>/confirm/", party.confirm, name="party-confirm"),
    path("office/party/<int:pk>/decline/", party.decline, name="party-decline"),
    path("office/export/roster.xlsx", exports.roster, name="export-roster"),
    path("office/export/hours.xlsx", exports.hours, name="export-hours"),
    path("office/export/employer.xlsx", exports.employer, name="export-employer"),
]
