"""REST routes of the repository app, mounted under /api/v1/."""

from django.urls import path

from repository.views import RepositoryInfoView

urlpatterns = [
    path("repository/", RepositoryInfoView.as_view(), name="repository-info"),
]
