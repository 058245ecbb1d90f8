"""DRF glue shared by every app: the exception handler and pagination.

Kept free of views: DRF imports this module while it builds its generic views.
"""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from aiidasite.exceptions import AiidaSiteError
from aiidasite.pagination import (
    KeysetPagination,
    ReadFirstPaginator,
    StrictPageSize,
)
from aiidasite.timeouts import is_timeout, timeout_detail


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map the project's exceptions to ``{"detail": ...}`` with their status."""
    if isinstance(exc, AiidaSiteError):
        return Response({"detail": str(exc)}, status=exc.status_code)
    if is_timeout(exc):
        return Response({"detail": timeout_detail()}, status=503)
    response = drf_exception_handler(exc, context)
    if response is not None and not (
        isinstance(response.data, dict) and "detail" in response.data
    ):
        # A serializer's errors by field keep their keys and gain the one
        # "detail" every error has.
        fields = response.data if isinstance(response.data, dict) else {}
        response.data = {"detail": first_message(response.data), **fields}
    return response


def first_message(errors: Any, where: str = "") -> str:
    """``"field: message"`` for the first error in DRF's nested error data
    (lists of items hold ``{}`` for the valid ones)."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if value:
                name = "" if key == "non_field_errors" else str(key)
                return first_message(value, ".".join(p for p in (where, name) if p))
    elif isinstance(errors, list):
        for item in errors:
            if item:
                return first_message(item, where)
    else:
        return f"{where}: {errors}" if where else str(errors)
    return f"{where}: invalid" if where else "invalid input"


class StandardPagination(StrictPageSize, PageNumberPagination):
    """Numbered pages for small tables (settings, groups) and query results;
    the last page is read without a COUNT query.

    :raises InputValidationError: a ``page_size`` that is not a positive
        integer.
    """

    django_paginator_class = ReadFirstPaginator


class LargeTablePagination(KeysetPagination):
    """Keyset pages for tables of millions of rows: no COUNT(*), stable order
    with the primary key breaking ties."""
