"""REST routes of the repository app, mounted under /api/v1/."""

urlpatterns: list = []
