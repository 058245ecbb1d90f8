"""Site-wide views: the API root and error pages that answer API clients in JSON."""

from __future__ import annotations

from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
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
    ("computers", "computer-list"),
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


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's own refusals (bad Host, too many fields, a body past
    DATA_UPLOAD_MAX_MEMORY_SIZE) as JSON for API clients; 413 for size."""
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(
            {"detail": "The request body is larger than this site accepts."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        detail = "The request has more fields or files than this site accepts."
    elif isinstance(exception, DisallowedHost):
        detail = "The Host header names no host this site serves."
    else:
        detail = "Bad request."
    return JsonResponse({"detail": detail}, status=status.HTTP_400_BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "You do not have permission to perform this action."},
            status=status.HTTP_403_FORBIDDEN,
        )
    return defaults.permission_denied(request, exception)


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
