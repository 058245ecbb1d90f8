"""REST routes of the queries app, mounted under /api/v1/."""

from django.urls import path

from queries import views

urlpatterns = [
    path("statistics/", views.StatisticsView.as_view(), name="statistics"),
    path("querybuilder/", views.QueryBuilderView.as_view(), name="querybuilder"),
    path("bands/", views.BandsView.as_view(), name="bands"),
    path(
        "closest-parents/",
        views.ClosestParentsView.as_view(),
        name="closest-parents",
    ),
]
