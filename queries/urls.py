"""REST routes of the queries app, mounted under /api/v1/."""

urlpatterns: list = []
