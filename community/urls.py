from django.urls import path

from community.views import portal, worker

app_name = "community"

urlpatterns = [
    path("worker/", worker.worker_home, name="worker-home"),
    path("worker/buildings/<int:pk>/", worker.worker_building, name="worker-building"),
    path("portal/", portal.portal_home, name="portal-home"),
]
