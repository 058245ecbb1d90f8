"""REST routes of pictures, mounted under /api/v1/."""

from django.urls import path

from pictures import views

urlpatterns = [
    path(
        "nodes/<str:identifier>/graph/",
        views.NodeGraphView.as_view(),
        name="node-graph",
    ),
    path(
        "nodes/<str:identifier>/download/",
        views.NodeDownloadView.as_view(),
        name="node-download",
    ),
]
