"""Refuse HTTP requests while the database schema is not the code's."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from aiidasite.exceptions import IncompatibleDatabaseSchema
from settingsapp.schema import BackendManager


class SchemaVersionMiddleware:
    """Answer every request with a 503 JSON error until the schema matches.

    The comparison runs on the first request of each process and is repeated
    only while it fails, so a served site pays for it once.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.compatible = False

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.compatible:
            try:
                BackendManager().validate_schema()
            except IncompatibleDatabaseSchema as exc:
                return JsonResponse(
                    {"detail": str(exc)}, status=IncompatibleDatabaseSchema.status_code
                )
            self.compatible = True
        return self.get_response(request)
