"""URLs: the admin, the versioned REST API and its OpenAPI schema and docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from aiidasite.throttling import ThrottledAdminLoginForm
from aiidasite.views import api_root
from pictures.home import home

# The product's name on every admin page, instead of Django's.
admin.site.site_header = "aiidasite"
admin.site.site_title = "aiidasite admin"
admin.site.index_title = "Provenance graph, groups and settings"

admin.site.login_form = ThrottledAdminLoginForm

api_v1 = [
    path("", api_root, name="api-root"),
    path("", include("settingsapp.urls")),
    path("", include("repository.urls")),
    path("", include("nodes.urls")),
    path("", include("computers.urls")),
    path("", include("comments.urls")),
    path("", include("logs.urls")),
    path("", include("queries.urls")),
    path("", include("archives.urls")),
    path("", include("pictures.urls")),
]

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

handler400 = "aiidasite.views.bad_request"
handler403 = "aiidasite.views.permission_denied"
handler404 = "aiidasite.views.page_not_found"
handler500 = "aiidasite.views.server_error"
