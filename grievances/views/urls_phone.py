"""Routes of the grievance page, its actions, its photos and the receivers' queue."""

from __future__ import annotations

from django.urls import URLPattern, path

from grievances.views import actions, detail, files, receiver

urlpatterns: list[URLPattern] = [
    path("<int:pk>/", detail.grievance_page, name="detail"),
    path("<int:pk>/<slug:action>/", actions.grievance_action, name="action"),
    path("photos/<int:pk>/", files.grievance_photo, name="photo"),
    path("work/", receiver.receiver_queue, name="queue"),
]
