from django.urls import path

from community.views import portal, staff, worker

app_name = "community"

urlpatterns = [
    path("worker/", worker.worker_home, name="worker-home"),
    path("worker/buildings/<int:pk>/", worker.worker_building, name="worker-building"),
    path("portal/", portal.portal_home, name="portal-home"),
    path("staff/residents/import/", staff.resident_import, name="resident-import"),
    path(
        "staff/residents/import/template/",
        staff.resident_import_template,
        name="resident-import-template",
    ),
    path("staff/residents/import/<int:pk>/", staff.resident_import_job, name="resident-import-job"),
    path(
        "staff/residents/import/<int:pk>/progress/",
        staff.resident_import_progress,
        name="resident-import-progress",
    ),
    path(
        "staff/residents/import/<int:pk>/confirm/",
        staff.resident_import_confirm,
        name="resident-import-confirm",
    ),
    path(
        "staff/residents/import/<int:pk>/cancel/",
        staff.resident_import_cancel,
        name="resident-import-cancel",
    ),
    path("staff/residents/export/", staff.resident_export, name="resident-export"),
    path("staff/residents/export/xlsx/", staff.resident_export_xlsx, name="resident-export-xlsx"),
]
