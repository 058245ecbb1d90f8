"""Keyset pages over (ordering field, id), and an ordering filter that says
what it takes.

A cursor that remembers only the ordering field's value (DRF's
``CursorPagination``) cannot step past rows that share it: 300 nodes stored in
one bulk call share one ``ctime``, and walking them by ``next`` skipped,
repeated or never ended. Here the primary key breaks every tie, so each page
starts strictly after the last row of the previous one: ``(field, id) >
(value, pk)`` (``<`` when descending), and a walk by ``next`` returns every
row exactly once, whatever the ties.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Model, Q, QuerySet
from rest_framework import filters
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from aiidasite.exceptions import InputValidationError
from aiidasite.identifiers import MAX_PK


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering filter on one field of ``ordering_fields`` (``-`` for
    descending) then the id, refusing anything else with the list of what it
    takes."""

    ordering_description = "One field to order by, '-' first for descending."

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> Any:
        text = request.query_params.get(self.ordering_param)
        if text is None:
            return self.get_default_ordering(view)
        valid = [
            name
            for name, _ in self.get_valid_fields(queryset, view, {"request": request})
        ]
        if text.strip().lstrip("-") not in valid:
            choices = ", ".join(f"{name}, -{name}" for name in valid)
            raise InputValidationError(
                f"ordering {text!r} is not one of: {choices or 'none here'}"
            )
        term = text.strip()
        if term.lstrip("-") == "id":
            return [term]
        # The primary key breaks ties, so numbered pages are stable too.
        return [term, "-id" if term.startswith("-") else "id"]


class StrictPageSize:
    """``page_size`` from the query string, refused unless it is a positive
    integer in ASCII digits; above ``max_page_size`` it is capped, as DRF
    caps it. DRF falls back to the default page size for anything it cannot
    read, so a typo went unnoticed while other bad parameters got a 400.

    :raises InputValidationError: a ``page_size`` that is not a positive
        integer.
    """

    page_size: int
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int:
        text = request.query_params.get(self.page_size_query_param)
        if text is None:
            return self.page_size
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise InputValidationError(
                f"page_size {text!r} is not a positive integer "
                f"(at most {self.max_page_size} rows are served)"
            )
        return min(int(text), self.max_page_size)


@dataclass(frozen=True)
class _Position:
    value: Any
    pk: int
    backwards: bool


class KeysetPagination(StrictPageSize, CursorPagination):
    """Pages of ``page_size`` rows (at most ``max_page_size``) ordered by the
    view's ``ordering`` (through :class:`OrderingFilter`, default ``-id``)
    then by id in the same direction; ``next``/``previous`` links carry the
    position. No COUNT(*).

    :raises InputValidationError: a cursor this class did not write, or a
        ``page_size`` that is not a positive integer.
    """

    page_size = 100
    ordering = "-id"

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        term = self._ordering(request, queryset, view)
        self.field, descending = term.lstrip("-"), term.startswith("-")
        position = self._decode(request.query_params.get(self.cursor_query_param))
        backwards = position is not None and position.backwards
        # Reading backwards walks the reversed order, then flips the page.
        reverse = descending != backwards
        keys = [self.field, "id"] if self.field != "id" else ["id"]
        queryset = queryset.order_by(*(f"-{key}" if reverse else key for key in keys))
        if position is not None:
            queryset = queryset.filter(self._after(queryset, position, reverse))
        rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()
        self.rows = rows
        self.has_next = backwards or more
        self.has_previous = (position is not None and not backwards) or (
            backwards and more
        )
        return rows

    def get_next_link(self) -> str | None:
        if not (self.has_next and self.rows):
            return None
        return self._link(self.rows[-1], backwards=False)

    def get_previous_link(self) -> str | None:
        if not (self.has_previous and self.rows):
            return None
        return self._link(self.rows[0], backwards=True)

    def _ordering(self, request: Request, queryset: QuerySet, view: Any) -> str:
        for backend in getattr(view, "filter_backends", ()):
            if issubclass(backend, filters.OrderingFilter):
                ordering = backend().get_ordering(request, queryset, view)
                if ordering:
                    return ordering if isinstance(ordering, str) else ordering[0]
        ordering = self.ordering
        return ordering if isinstance(ordering, str) else ordering[0]

    def _after(self, queryset: QuerySet, position: _Position, reverse: bool) -> Q:
        """Rows strictly after ``position`` in the order being read."""
        op = "lt" if reverse else "gt"
        if self.field == "id":
            return Q(**{f"id__{op}": position.pk})
        if position.value is None:
            raise InputValidationError("invalid cursor")
        try:
            value = queryset.model._meta.get_field(self.field).to_python(position.value)
        except DjangoValidationError:
            raise InputValidationError("invalid cursor") from None
        return Q(**{f"{self.field}__{op}": value}) | Q(
            **{self.field: value, f"id__{op}": position.pk}
        )

    def _link(self, row: Model | dict[str, Any], *, backwards: bool) -> str:
        # Rows are model instances, or dicts of a ``values()`` queryset.
        pk = row["id"] if isinstance(row, dict) else row.pk
        if self.field == "id":
            value = None
        elif isinstance(row, dict):
            value = row[self.field]
        else:
            value = getattr(row, self.field)
        if isinstance(value, datetime.datetime):
            value = value.isoformat()
        data = json.dumps({"v": value, "id": pk, "b": backwards})
        cursor = base64.urlsafe_b64encode(data.encode()).decode()
        url = remove_query_param(self.base_url, self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def _decode(self, cursor: str | None) -> _Position | None:
        if cursor is None:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            pk, backwards, value = data["id"], data["b"], data["v"]
        except (binascii.Error, ValueError, TypeError, KeyError, UnicodeError):
            raise InputValidationError("invalid cursor") from None
        if (
            type(pk) is not int
            or not 0 <= pk < MAX_PK
            or type(backwards) is not bool
            or not (value is None or isinstance(value, str))
            or (value is not None and "\x00" in value)
        ):
            raise InputValidationError("invalid cursor")
        return _Position(value, pk, backwards)


class ReadFirstPaginator(Paginator):
    """Django's paginator, reading the page before counting the rows.

    A page that comes back short is the last one, so the count is the rows
    before it plus its own and no COUNT query runs; one that comes back
    empty is past the end (except the first). Only a full page needs a
    count, as before. Answers and errors are Django's.
    """

    def page(self, number: Any) -> Page:
        if self.orphans or not self.allow_empty_first_page or "count" in vars(self):
            return super().page(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page >= MAX_PK:
            # No database reads that far (nor takes the offset): counting
            # says the page is past the end.
            return super().page(number)
        rows = list(self.object_list[bottom : bottom + self.per_page])
        if (rows and len(rows) < self.per_page) or (not rows and number == 1):
            # What Paginator.count would have counted.
            vars(self)["count"] = bottom + len(rows)
        elif not rows:
            raise EmptyPage(self.error_messages["no_results"])
        return self._get_page(rows, number, self)
