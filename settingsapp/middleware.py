"""Refuse HTTP requests while the database schema is not the code's."""

from __future__ import annotations

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse

from aiidasite.exceptions import IncompatibleDatabaseSchema
from settingsapp.checks import connection_problem, describe_connection_error
from settingsapp.schema import BackendManager


class SchemaVersionMiddleware:
    """Answer every request with a 503 JSON error until the schema matches
    (or while the database cannot be reached).

    The comparison runs on the first request of each process and is repeated
    only while it fails, so a served site pays for it once.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.compatible = False

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.compatible:
            try:
                problem = connection_problem()
                if problem is None:
                    BackendManager().validate_schema()
            except IncompatibleDatabaseSchema as exc:
                problem = str(exc)
            except DatabaseError as exc:
                problem = describe_connection_error(DEFAULT_DB_ALIAS, exc)
            if problem is not None:
                return JsonResponse(
                    {"detail": problem}, status=IncompatibleDatabaseSchema.status_code
                )
            self.compatible = True
        return self.get_response(request)
