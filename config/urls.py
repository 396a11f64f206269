from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from config import views

admin.site.site_header = admin.site.site_title = "邻里通 Linli"
admin.site.index_title = "社区管理后台"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("accounts.urls")),
    path("", include("community.urls")),
    path("points/", include("credit.urls")),
    path("grievances/", include("grievances.urls")),
    path("volunteers/", include("volunteers.urls")),
    path("property/", include("property_mgmt.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", obtain_auth_token, name="api-token"),
    path("api/v1/", include("community.api.urls")),
    path("api/v1/credit/", include("credit.api.urls")),
    path("api/v1/inbox/", include("accounts.api.urls")),
    path("api/v1/grievances/", include("grievances.api.urls")),
    path("api/v1/volunteers/", include("volunteers.api.urls")),
    path("api/v1/property/", include("property_mgmt.api.urls")),
    path("open311/", include("grievances.open311.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if getattr(settings, "LINLI_BENCH_REFERENCES", False):
    urlpatterns += [path("bench/", include("bench.urls"))]
