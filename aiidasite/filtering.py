"""The list filters of the API: django-filter's, not built for nothing.

A request that names none of a route's filters would still have django-filter
build the route's FilterSet (a deep copy of every filter and its form field)
and validate an empty form, a tenth of what a node-list page costs, to filter
nothing: a filter whose parameter is absent keeps every row. Such a request
skips it. The schema and the browsable API's filter form are django-filter's.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from rest_framework.request import Request


def names_a_filter(names: Any, filters: Any) -> bool:
    """Whether a query parameter of ``names`` is one of ``filters`` or one of
    its parts (``ctime_after`` of the range ``ctime``)."""
    return any(
        name == key or name.startswith(f"{key}_") for name in names for key in filters
    )


def must_filter(names: Any, filters: dict[str, Any]) -> bool:
    """Whether the filters must run for a request with query parameters
    ``names``: one names a filter, or a filter is required (its absence is
    an error to report)."""
    return names_a_filter(names, filters) or any(
        item.extra.get("required") for item in filters.values()
    )


class FilterBackend(DjangoFilterBackend):
    """``DjangoFilterBackend``, returning the queryset as it is when the
    request names none of the view's filters."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet, view: Any
    ) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not must_filter(
            request.query_params, filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class FilterBackendExtension(DjangoFilterExtension):
    """The OpenAPI parameters of :class:`FilterBackend`: django-filter's."""

    target_class = "aiidasite.filtering.FilterBackend"
