"""REST routes of the nodes app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from nodes import views

router = SimpleRouter()
router.register("groups", views.GroupViewSet, basename="group")

urlpatterns = [
    path("nodes/", views.NodeListView.as_view(), name="node-list"),
    path("nodes/<str:identifier>/", views.NodeDetailView.as_view(), name="node-detail"),
    path(
        "nodes/<str:identifier>/links/incoming/",
        views.NodeLinksView.as_view(direction="incoming"),
        name="node-links-incoming",
    ),
    path(
        "nodes/<str:identifier>/links/outgoing/",
        views.NodeLinksView.as_view(direction="outgoing"),
        name="node-links-outgoing",
    ),
    path(
        "nodes/<str:identifier>/files/",
        views.NodeFilesView.as_view(),
        name="node-files",
    ),
    path(
        "nodes/<str:identifier>/files/<path:path>",
        views.NodeFileView.as_view(),
        name="node-file",
    ),
    path("links/", views.LinkListView.as_view(), name="link-list"),
    *router.urls,
]
