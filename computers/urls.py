"""REST routes of the computers app, mounted under /api/v1/."""

from django.urls import path

from computers import views

urlpatterns = [
    path("computers/", views.ComputerListView.as_view(), name="computer-list"),
    path(
        "computers/<str:identifier>/",
        views.ComputerDetailView.as_view(),
        name="computer-detail",
    ),
]
