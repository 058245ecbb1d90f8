"""REST routes of the nodes app, mounted under /api/v1/."""

urlpatterns: list = []
