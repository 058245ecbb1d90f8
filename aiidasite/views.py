"""Site-wide views: the API root and error pages that answer API clients in JSON."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.views import defaults
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

# Route names listed by the API root, in the order a reader meets them. Routes
# that are not installed simply do not appear.
API_ROOT_ROUTES = (
    ("settings", "setting-list"),
    ("nodes", "node-list"),
    ("links", "link-list"),
    ("groups", "group-list"),
    ("statistics", "statistics"),
    ("querybuilder", "querybuilder"),
    ("bands", "bands"),
    ("closest-parents", "closest-parents"),
    ("repository", "repository-info"),
    ("archives", "archive-list"),
    ("schema", "schema"),
    ("docs", "docs"),
)


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request: Request, format: str | None = None) -> Response:
    """The resources of this API."""
    links = {}
    for key, name in API_ROOT_ROUTES:
        try:
            links[key] = request.build_absolute_uri(reverse(name))
        except NoReverseMatch:
            continue
    return Response(links)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """JSON for API clients, Django's page for everyone else."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Internal server error."},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return defaults.server_error(request)
