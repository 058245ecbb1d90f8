"""REST routes of a node's comments, mounted under /api/v1/."""

from django.urls import path

from comments import views

urlpatterns = [
    path(
        "nodes/<str:identifier>/comments/",
        views.NodeCommentsView.as_view(),
        name="node-comments",
    ),
    path(
        "nodes/<str:identifier>/comments/<str:pk>/",
        views.NodeCommentView.as_view(),
        name="node-comment",
    ),
]
