"""API paths without their trailing slash, served as the slashed route; API
paths that are no route, a JSON 404 even with DEBUG on.

Django's ``APPEND_SLASH`` answers such a path with a 301 to the slashed one
(an HTML page with DEBUG on, a ``RuntimeError`` for a write): a client that
follows a 301 turns a POST into a GET, so the write is silently lost. Under
``/api/`` the slashed route serves the request itself; elsewhere (the admin,
the home page) Django's redirect stays.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.common import CommonMiddleware


class APISlashMiddleware(CommonMiddleware):
    """Django's ``CommonMiddleware``, serving ``/api/...`` paths that lack
    only their trailing slash instead of redirecting them, and answering
    ``/api/...`` paths that are no route with JSON, not DEBUG's HTML page."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if request.path_info.startswith("/api/") and self.should_redirect_with_slash(
            request
        ):
            # The URL resolver reads path_info after this; path feeds the
            # links a page writes (next, previous).
            request.path_info += "/"
            request.path += "/"
        return super().process_request(request)

    def process_response(
        self, request: HttpRequest, response: HttpResponse
    ) -> HttpResponse:
        if (
            response.status_code == 404
            and request.path_info.startswith("/api/")
            and response.get("Content-Type", "").startswith("text/html")
        ):
            # DEBUG's technical 404 page skips handler404; API clients read
            # JSON whatever DEBUG says.
            response = JsonResponse({"detail": "Not found."}, status=404)
        return super().process_response(request, response)
