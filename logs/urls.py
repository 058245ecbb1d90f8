"""REST route of a node's log records, mounted under /api/v1/."""

from django.urls import path

from logs import views

urlpatterns = [
    path(
        "nodes/<str:identifier>/logs/", views.NodeLogsView.as_view(), name="node-logs"
    ),
]
