"""Query-string filters of the node, link and group lists."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters.fields import IsoDateTimeRangeField

from aiidasite.identifiers import MAX_PK
from nodes import types
from nodes.models import DbGroup, DbLink, DbNode, LinkType
from nodes.services import uuid_prefix


def subtype_query(name: str) -> Q:
    """Nodes of the type ``name`` or one of its subtypes.

    ``name`` is a type string, a class name (``BandsData``) or a module
    prefix (``data.``, ``process.calculation.``).

    :raises InputValidationError: for anything else.
    """
    if name in ("data.", "process."):
        return Q(node_type__startswith=name)
    node_type = types.resolve(name)
    if not types.class_name(node_type)[:1].isupper():
        return Q(node_type__startswith=node_type)
    return Q(node_type=node_type) | Q(
        node_type__startswith=types.type_prefix(node_type)
    )


class StorableDateTimeRangeField(IsoDateTimeRangeField):
    """A range of ISO 8601 times that exist in UTC, where the database compares
    them (``0001-01-01T00:00:00+14:00`` is before the year 1 there)."""

    def clean(self, value: Any) -> slice | None:
        bounds = super().clean(value)
        for end in (bounds.start, bounds.stop) if bounds else ():
            try:
                end is None or end.astimezone(datetime.UTC)
            except OverflowError:
                raise forms.ValidationError(
                    f"{end.isoformat()} is outside the years 1 to 9999 in UTC"
                ) from None
        return bounds


class StorableDateTimeRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    field_class = StorableDateTimeRangeField


class NodeFilterSet(django_filters.FilterSet):
    node_type = django_filters.CharFilter(
        method="filter_node_type",
        label="type string, class name (BandsData) or prefix; subtypes match",
    )
    process_type = django_filters.CharFilter()
    label = django_filters.CharFilter()
    label_contains = django_filters.CharFilter(
        field_name="label", lookup_expr="contains"
    )
    user = django_filters.CharFilter(field_name="user__username", label="username")
    ctime = StorableDateTimeRangeFilter(
        label="creation time range (ctime_after, ctime_before)"
    )
    uuid = django_filters.CharFilter(method="filter_uuid", label="uuid or prefix")
    process_state = django_filters.ChoiceFilter(
        field_name="attributes__process_state",
        choices=[(state, state) for state in types.PROCESS_STATES],
        label="a process's state (finished, running, ...)",
    )
    exit_status = django_filters.NumberFilter(
        method="filter_exit_status", label="a process's exit status"
    )

    class Meta:
        model = DbNode
        fields: list[str] = []

    def filter_node_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A malformed type raises InputValidationError: a 400 like any other.
        return queryset.filter(subtype_query(value))

    def filter_exit_status(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        # Compared as an integer, as AiiDA stores exit codes; 1.5 matches none.
        if value != int(value):
            return queryset.none()
        return queryset.filter(attributes__exit_status=int(value))

    def filter_uuid(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        prefix = uuid_prefix(value)
        if prefix is None:
            return queryset.none()
        return queryset.filter(uuid__startswith=prefix)


class LinkFilterSet(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=LinkType.choices)
    label = django_filters.CharFilter()
    input = django_filters.NumberFilter(
        field_name="input_id", min_value=1, max_value=MAX_PK - 1
    )
    output = django_filters.NumberFilter(
        field_name="output_id", min_value=1, max_value=MAX_PK - 1
    )

    class Meta:
        model = DbLink
        fields: list[str] = []


class GroupFilterSet(django_filters.FilterSet):
    label = django_filters.CharFilter()
    label_contains = django_filters.CharFilter(
        field_name="label", lookup_expr="contains"
    )
    type_string = django_filters.CharFilter()
    user = django_filters.CharFilter(field_name="user__username", label="username")

    class Meta:
        model = DbGroup
        fields: list[str] = []
