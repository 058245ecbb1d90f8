"""Query-string filters of the computer list."""

from __future__ import annotations

import django_filters

from computers.models import DbComputer


class ComputerFilterSet(django_filters.FilterSet):
    label_contains = django_filters.CharFilter(
        field_name="label", lookup_expr="contains"
    )

    class Meta:
        model = DbComputer
        fields = ["label", "hostname", "scheduler_type", "transport_type"]
