"""Refuse the query parameters and body keys a route does not take.

A parameter that is silently ignored answers another question than the one
asked (``?ordering=label`` ignored, ``{"type": ...}`` sent instead of
``node_type``), so every API request is checked against its route's OpenAPI
operation, which drf-spectacular builds from what the views declare:

- query parameters: the view's ``filterset_class`` (django-filter, ranges as
  ``NAME_after``/``NAME_before``), its ``pagination_class``, its ordering
  filter (``ordering_fields``) and the ``parameters`` of ``@extend_schema``;
- body keys: the writable fields of the request serializer (``request=`` of
  ``@extend_schema``, else the view's serializer class).

A new route, filter or parameter therefore needs nothing more than being
declared, and what ``/api/schema/`` documents is exactly what a route takes.
A body documented as a free-form object (``OpenApiTypes.OBJECT``, a
``DictField``) takes any key; an operation with no documented body is not
checked; files of a multipart body are the view's to check (a node's files
are named by their path). ``format`` (DRF's renderer override) is always
accepted.

Two hooks apply it to every route: :class:`UnknownParametersMiddleware`
refuses unknown query parameters before the view runs, and the parsers below
(the ``DEFAULT_PARSER_CLASSES``) refuse unknown keys when the view reads its
body, as DRF parses lazily. A view that sets ``parser_classes`` takes them
from this module. The answer is a 400 ``{"detail": ...}`` naming the unknown
names and listing the accepted ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from aiidasite.limits import MAX_JSON_DEPTH, json_depth

logger = logging.getLogger(__name__)

# DRF reads ``?format=json`` to choose a renderer on every route.
ALWAYS_ACCEPTED = frozenset({"format"})


@dataclass(frozen=True)
class Operation:
    """What one route takes for one HTTP method.

    ``body`` maps a media type to its accepted top-level keys, or to None
    when that body is a free-form object.
    """

    query: frozenset[str]
    body: dict[str, frozenset[str] | None]


_operations: dict[tuple[Callable[..., Any], str], Operation] | None = None


def _reset_operations(*, setting: str, **kwargs: Any) -> None:
    global _operations
    if setting in ("ROOT_URLCONF", "REST_FRAMEWORK", "SPECTACULAR_SETTINGS"):
        _operations = None


setting_changed.connect(_reset_operations)


def _body_keys(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The writable top-level keys of a request body's schema; None for a
    free-form object."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    properties = schema.get("properties")
    if properties is None or schema.get("additionalProperties"):
        return None
    return frozenset(
        name for name, field in properties.items() if not field.get("readOnly")
    )


def _generator() -> Any:
    # Imported here: DRF imports this module (a parser) while it builds its
    # views, and the generator imports DRF's views.
    from drf_spectacular.generators import SchemaGenerator

    class Generator(SchemaGenerator):
        """The schema generator, remembering which URL callback each path has."""

        def _get_paths_and_endpoints(self) -> list[tuple[Any, ...]]:
            views = super()._get_paths_and_endpoints()
            # Same order as ``self.endpoints``: (path, regex, method, callback).
            self.documented_paths = {
                (callback, method): path
                for (_, _, method, callback), (path, *_) in zip(
                    self.endpoints, views, strict=True
                )
            }
            return views

    return Generator()


def operations() -> dict[tuple[Callable[..., Any], str], Operation]:
    """Every documented operation, keyed by (URL callback, HTTP method).

    Built once per process from the OpenAPI schema (about a second).
    """
    global _operations
    if _operations is None:
        generator = _generator()
        schema = generator.get_schema(request=None, public=True)
        components = schema.get("components", {}).get("schemas", {})
        found = {}
        for (callback, method), path in generator.documented_paths.items():
            operation = schema["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            found[callback, method] = Operation(
                query=frozenset(
                    p["name"]
                    for p in operation.get("parameters", [])
                    if p["in"] == "query"
                ),
                body={
                    media: _body_keys(body.get("schema", {}), components)
                    for media, body in content.items()
                },
            )
        _operations = found
    return _operations


def operation_for(view: Callable[..., Any], method: str) -> Operation | None:
    """The documented operation a request to ``view`` runs, if any (HEAD is
    GET)."""
    if method == "HEAD":
        method = "GET"
    global _operations
    try:
        return operations().get((view, method))
    except Exception:
        # A schema that cannot be built must not take the site down with it:
        # said once, then nothing is checked; /api/schema/ and the tests show
        # the cause.
        logger.exception("the OpenAPI schema could not be built")
        _operations = {}
        return None


def unknown_names_message(
    kind: str, unknown: set[str], accepted: frozenset[str]
) -> str:
    """One line naming the unknown names and the accepted ones."""
    names = ", ".join(sorted(unknown))
    takes = ", ".join(sorted(accepted)) or "none"
    return f"unknown {kind}: {names} (this route takes: {takes})"


class UnknownParametersMiddleware:
    """Answer 400 to a request with a query parameter its route does not take."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: Any,
        kwargs: Any,
    ) -> HttpResponse | None:
        if not request.path.startswith("/api/"):
            return None
        if any(
            "\x00" in "".join([key, *values]) for key, values in request.GET.lists()
        ):
            # PostgreSQL refuses NUL in any text, and no stored value has one.
            return JsonResponse(
                {"detail": "query parameters cannot contain NUL characters"},
                status=400,
            )
        operation = operation_for(view, request.method or "GET")
        if operation is None:
            return None
        # The parsers read it from here.
        request.documented_operation = operation  # type: ignore[attr-defined]
        unknown = set(request.GET) - operation.query - ALWAYS_ACCEPTED
        if not unknown:
            return None
        detail = unknown_names_message("query parameter", unknown, operation.query)
        return JsonResponse({"detail": detail}, status=400)


class _KeysChecked:
    """Refuse top-level body keys the operation does not document."""

    def check_keys(self, data: Any, parser_context: dict[str, Any] | None) -> None:
        request = (parser_context or {}).get("request")
        operation = getattr(
            getattr(request, "_request", None), "documented_operation", None
        )
        if operation is None or not hasattr(data, "keys"):
            return
        accepted = operation.body.get(self.media_type)  # type: ignore[attr-defined]
        if accepted is None:
            return
        unknown = set(data.keys()) - accepted
        if unknown:
            raise ParseError(unknown_names_message("body key", unknown, accepted))


class JSONParser(_KeysChecked, parsers.JSONParser):
    """DRF's JSON parser, refusing nesting beyond ``MAX_JSON_DEPTH`` and
    unknown keys."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels"
            ) from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(
                f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels"
            )
        self.check_keys(data, parser_context)
        return data


class FormParser(_KeysChecked, parsers.FormParser):
    def parse(
        self, stream: Any, media_type: Any = None, parser_context: Any = None
    ) -> Any:
        data = super().parse(stream, media_type, parser_context)
        self.check_keys(data, parser_context)
        return data


class MultiPartParser(_KeysChecked, parsers.MultiPartParser):
    def parse(
        self, stream: Any, media_type: Any = None, parser_context: Any = None
    ) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        self.check_keys(parsed.data, parser_context)
        return parsed
