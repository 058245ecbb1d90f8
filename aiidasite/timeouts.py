"""A time limit on the database work of every API request.

A request whose statements run longer than ``AIIDASITE_REQUEST_TIMEOUT_MS``
(default 30,000; 0 switches the limit off) is answered 503 with a JSON
``detail`` instead of tying up a worker until the client gives up.
PostgreSQL cancels the statement itself (``statement_timeout`` for the
session, reset when the response is built); SQLite's progress handler
interrupts it. Routes with a tighter limit of their own (the QueryBuilder's
``AIIDASITE_QUERY_TIMEOUT_MS``) set it inside this one.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse

DEFAULT_TIMEOUT_MS = 30_000
# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"


def request_timeout_ms() -> int:
    return int(getattr(settings, "AIIDASITE_REQUEST_TIMEOUT_MS", DEFAULT_TIMEOUT_MS))


@contextlib.contextmanager
def database_time_limit(milliseconds: int, alias: str = "default") -> Iterator[None]:
    """Cancel any statement of the block still running ``milliseconds`` after
    the block began (SQLite) or after it began itself (PostgreSQL)."""
    wrapper = connections[alias]
    wrapper.ensure_connection()
    if wrapper.vendor == "postgresql":
        with wrapper.cursor() as cursor:
            cursor.execute("SET statement_timeout = %s", [int(milliseconds)])
        try:
            yield
        finally:
            if wrapper.connection is not None and not wrapper.needs_rollback:
                with contextlib.suppress(Exception), wrapper.cursor() as cursor:
                    cursor.execute("RESET statement_timeout")
        return
    raw = wrapper.connection
    deadline = time.monotonic() + milliseconds / 1000
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        yield
    finally:
        if wrapper.connection is raw:
            raw.set_progress_handler(None, 0)


def timeout_detail() -> str:
    return (
        "The request was cancelled: its database work ran longer than the site "
        f"allows ({request_timeout_ms()} ms). Ask for less: narrower filters or "
        "smaller pages."
    )


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a statement cancelled for time."""
    seen: set[int] = set()
    current: Any = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "pgcode", None) == QUERY_CANCELED:
            return True
        if type(current).__name__ == "OperationalError" and str(current) == (
            "interrupted"
        ):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


class RequestTimeoutMiddleware:
    """Puts every ``/api/`` request under :func:`database_time_limit`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = request_timeout_ms()
        if limit <= 0 or not request.path.startswith("/api/"):
            return self.get_response(request)
        with database_time_limit(limit):
            return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exc: Exception
    ) -> HttpResponse | None:
        """A timeout outside DRF's views (whose handler answers it) as JSON."""
        if request.path.startswith("/api/") and is_timeout(exc):
            return JsonResponse({"detail": timeout_detail()}, status=503)
        return None
