"""A time limit on the database work of every API request.

A request whose statements run longer than ``AIIDASITE_REQUEST_TIMEOUT_MS``
(default 30,000; 0 switches the limit off) is answered 503 with a JSON
``detail`` instead of tying up a worker until the client gives up.
PostgreSQL cancels the statement itself (``statement_timeout`` of the
session); SQLite's progress handler interrupts it. Routes with a tighter
limit of their own (the QueryBuilder's ``AIIDASITE_QUERY_TIMEOUT_MS``) set
it inside this one.

A PostgreSQL connection serves many requests (``CONN_MAX_AGE``), so the
session keeps the limit between them: it is set when an API request finds
another one in place, and reset when a request that is not the API's finds
one; API requests in a row send nothing. Inside a transaction (which may be
rolled back, and the setting with it) the limit is set and reset around the
block as before.
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


# The statement_timeout this module last gave a PostgreSQL connection, kept
# on its wrapper as (driver connection, milliseconds; None: the server's own).
_SESSION_LIMIT = "_aiidasite_statement_timeout"
# Set inside a transaction: whether it outlived it is not known.
UNKNOWN = object()


def known_time_limit(alias: str = "default") -> int | object | None:
    """The statement_timeout the open PostgreSQL connection of ``alias`` has
    as far as this module set it: milliseconds, None (the server's default,
    also that of a new connection) or :data:`UNKNOWN`."""
    wrapper = connections[alias]
    known = getattr(wrapper, _SESSION_LIMIT, None)
    if known is None or known[0] is not wrapper.connection:
        return None
    return known[1]


def _set_session_limit(wrapper: Any, milliseconds: int | None) -> None:
    """SET (RESET for None) the session's statement_timeout, and remember it."""
    setattr(wrapper, _SESSION_LIMIT, (wrapper.connection, UNKNOWN))
    with wrapper.cursor() as cursor:
        if milliseconds is None:
            cursor.execute("RESET statement_timeout")
        else:
            cursor.execute("SET statement_timeout = %s", [int(milliseconds)])
    if not wrapper.in_atomic_block:
        setattr(wrapper, _SESSION_LIMIT, (wrapper.connection, milliseconds))


@contextlib.contextmanager
def database_time_limit(milliseconds: int, alias: str = "default") -> Iterator[None]:
    """Cancel any statement of the block still running ``milliseconds`` after
    the block began (SQLite) or after it began itself (PostgreSQL)."""
    wrapper = connections[alias]
    wrapper.ensure_connection()
    if wrapper.vendor == "postgresql":
        _set_session_limit(wrapper, milliseconds)
        try:
            yield
        finally:
            if wrapper.connection is not None and not wrapper.needs_rollback:
                with contextlib.suppress(Exception):
                    _set_session_limit(wrapper, None)
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


@contextlib.contextmanager
def request_time_limit(milliseconds: int, alias: str = "default") -> Iterator[None]:
    """:func:`database_time_limit`, left in place after the block on a
    PostgreSQL connection outside a transaction, where the next request
    likely wants it again."""
    wrapper = connections[alias]
    if wrapper.vendor != "postgresql" or wrapper.in_atomic_block:
        with database_time_limit(milliseconds, alias):
            yield
        return
    wrapper.ensure_connection()
    if known_time_limit(alias) != milliseconds:
        _set_session_limit(wrapper, milliseconds)
    yield


def lift_time_limit(alias: str = "default") -> None:
    """The server's statement_timeout again, where a request left another."""
    wrapper = connections[alias]
    if (
        wrapper.vendor == "postgresql"
        and wrapper.connection is not None
        and not wrapper.needs_rollback
        and known_time_limit(alias) is not None
    ):
        _set_session_limit(wrapper, None)


class RequestTimeoutMiddleware:
    """Puts every ``/api/`` request under :func:`request_time_limit`, and
    lifts it for the others."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = request_timeout_ms()
        if limit <= 0 or not request.path.startswith("/api/"):
            lift_time_limit()
            return self.get_response(request)
        with request_time_limit(limit):
            return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exc: Exception
    ) -> HttpResponse | None:
        """A timeout outside DRF's views (whose handler answers it) as JSON."""
        if request.path.startswith("/api/") and is_timeout(exc):
            return JsonResponse({"detail": timeout_detail()}, status=503)
        return None
