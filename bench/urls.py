"""Reference views, mounted at /bench/ only when settings.LINLI_BENCH_REFERENCES is true."""

from django.urls import path

from bench import views

app_name = "bench"

urlpatterns = [
    path("r0/", views.r0_bare, name="r0"),
    path("r1/<int:pk>/", views.r1_one_row, name="r1"),
    path("r20/", views.r20_page, name="r20"),
    path("r20-history/", views.r20_history, name="r20-history"),
    path("redeem/", views.r_redeem, name="redeem"),
]

# Grievances (issue 4).
urlpatterns += [
    path("r20-grievances/", views.r20_grievances, name="r20-grievances"),
    path("file/", views.r_file, name="file"),
]
