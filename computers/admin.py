"""Admin pages of computers and, for staff only, auth infos."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from aiidasite.exceptions import AiidaSiteError
from computers import services
from computers.models import DbAuthInfo, DbComputer


def pretty_json(value: Any) -> SafeString:
    return format_html(
        '<pre style="white-space: pre-wrap">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True),
    )


@admin.register(DbComputer)
class DbComputerAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "hostname",
        "scheduler_type",
        "transport_type",
        "node_count",
    ]
    list_filter = ["scheduler_type", "transport_type"]
    search_fields = ["label", "hostname"]
    ordering = ["label"]
    fields = [
        "uuid",
        "label",
        "hostname",
        "description",
        "scheduler_type",
        "transport_type",
        "metadata_pretty",
        "node_count",
    ]
    readonly_fields = ["uuid", "metadata_pretty", "node_count"]
    actions = ["delete_unused"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(node_count=Count("dbnodes"))

    @admin.display(description="nodes", ordering="node_count")
    def node_count(self, computer: DbComputer) -> int:
        return computer.node_count

    @admin.display(description="metadata")
    def metadata_pretty(self, computer: DbComputer) -> SafeString:
        return pretty_json(computer.metadata)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # The stock action would meet the nodes' PROTECT with a generic page.
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request: HttpRequest, obj: DbComputer) -> None:
        services.computer_delete(computer=obj)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None):
        computer = self.get_object(request, object_id)
        used = computer.dbnodes.count() if computer else 0
        if used:
            self.message_user(
                request,
                f"Computer {computer.label!r} is used by {used} node(s) and "
                "cannot be deleted.",
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse("admin:computers_dbcomputer_change", args=[computer.pk])
            )
        return super().delete_view(request, object_id, extra_context)

    @admin.action(description="Delete selected computers that no node uses")
    def delete_unused(self, request: HttpRequest, queryset: QuerySet) -> None:
        for computer in queryset:
            try:
                services.computer_delete(computer=computer)
            except AiidaSiteError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"Deleted {computer.label!r}.")


class StaffOnly:
    """Only staff see, and only superusers change, what may hold credentials."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(DbAuthInfo)
class DbAuthInfoAdmin(StaffOnly, admin.ModelAdmin):
    list_display = ["aiidauser", "dbcomputer", "enabled"]
    list_select_related = ["aiidauser", "dbcomputer"]
    list_filter = ["enabled", "dbcomputer"]
    raw_id_fields = ["aiidauser", "dbcomputer"]
    fields = ["aiidauser", "dbcomputer", "enabled", "metadata", "auth_params_hidden"]
    readonly_fields = ["auth_params_hidden"]

    @admin.display(description="auth params")
    def auth_params_hidden(self, info: DbAuthInfo) -> SafeString:
        # Shown only on request: a <details> element closed by default.
        return format_html(
            "<details><summary>show ({} keys)</summary>{}</details>",
            len(info.auth_params or {}),
            pretty_json(info.auth_params),
        )
