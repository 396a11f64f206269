from django.urls import path

from community.api import views

app_name = "community-api"

urlpatterns = [
    path("residents/", views.ResidentListApi.as_view(), name="resident-list"),
    path("residents/lookup/", views.ResidentLookupApi.as_view(), name="resident-lookup"),
    path("residents/<int:pk>/", views.ResidentDetailApi.as_view(), name="resident-detail"),
    path("households/", views.HouseholdListApi.as_view(), name="household-list"),
    path("households/<int:pk>/", views.HouseholdDetailApi.as_view(), name="household-detail"),
    path("buildings/", views.BuildingListApi.as_view(), name="building-list"),
    path("buildings/<int:pk>/", views.BuildingDetailApi.as_view(), name="building-detail"),
    path("grids/", views.GridListApi.as_view(), name="grid-list"),
]
