"""REST routes of the settingsapp app, mounted under /api/v1/."""

from django.urls import path

from settingsapp.views import SettingDetailView, SettingListView

urlpatterns = [
    path("settings/", SettingListView.as_view(), name="setting-list"),
    # ``path`` accepts slashes: keys such as ``a/b|c.d`` are legal.
    path("settings/<path:key>/", SettingDetailView.as_view(), name="setting-detail"),
]
