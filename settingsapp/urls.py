"""REST routes of the settingsapp app, mounted under /api/v1/."""

urlpatterns: list = []
