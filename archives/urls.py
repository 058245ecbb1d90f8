"""REST routes of the archives app, mounted under /api/v1/."""

from django.urls import path

from archives.views import ArchiveView

urlpatterns = [
    path("archives/", ArchiveView.as_view(), name="archive-list"),
]
