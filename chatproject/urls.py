from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from chatproject import health

urlpatterns = [
    path("healthz", health.live, name="health-live"),
    path("readyz", health.ready, name="health-ready"),
    path("", RedirectView.as_view(pattern_name="rooms:list", permanent=False)),
    path("accounts/", include("accounts.urls")),
    path("rooms/", include("rooms.urls")),
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.api_urls")),
    path("api/", include("rooms.api.urls")),
    path("api/", include("messages.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler404 = "chatproject.views.not_found"
