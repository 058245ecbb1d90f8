"""The process list: label, state and exit status at a glance, failed ones
in red, filters by state and by "failed"."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from nodes.admin import CappedCountPaginator
from processes import services
from processes.models import ProcessNode


class ProcessStateFilter(admin.SimpleListFilter):
    title = "process state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(state, state.capitalize()) for state in services.PROCESS_STATES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in services.PROCESS_STATES:
            return queryset.filter(attributes__process_state=self.value())
        return queryset


class FailedFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "failed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Failed (non-zero exit status)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return services.failed_query(queryset)
        return queryset


@admin.register(ProcessNode)
class ProcessNodeAdmin(admin.ModelAdmin):
    """Read-only: each row opens the node's own page."""

    list_display = [
        "pk_link",
        "process_label",
        "state",
        "exit_status",
        "label",
        "ctime",
    ]
    list_display_links = None
    list_filter = [ProcessStateFilter, FailedFilter, "ctime"]
    search_fields = ["label"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    ordering = ["-id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).defer("repository_metadata", "extras")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="pk", ordering="id")
    def pk_link(self, node: ProcessNode) -> SafeString:
        url = reverse("admin:nodes_dbnode_change", args=[node.pk])
        return format_html('<a href="{}">{}</a>', url, node.pk)

    @admin.display(description="process label")
    def process_label(self, node: ProcessNode) -> str:
        return services.process_row(node)["process_label"]

    @admin.display(description="state")
    def state(self, node: ProcessNode) -> SafeString:
        row = services.process_row(node)
        failed = row["process_state"] in ("excepted", "killed") or (
            row["process_state"] == "finished" and (row["exit_status"] or 0) > 0
        )
        style = (
            "color: #fff; background: #ba2121; padding: 1px 6px; border-radius: 8px"
            if failed
            else ""
        )
        return format_html(
            '<span class="process-state{}" style="{}">{}</span>',
            " failed" if failed else "",
            style,
            str(row["process_state"] or "unknown").capitalize(),
        )

    @admin.display(description="exit status")
    def exit_status(self, node: ProcessNode) -> Any:
        return services.process_row(node)["exit_status"]
