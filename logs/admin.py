"""Log records in the admin: on their node's page, newest first."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from logs.models import DbLog

# The level at a glance: the admin's own message colours.
LEVEL_COLOURS = {
    "CRITICAL": "#ba2121",
    "ERROR": "#ba2121",
    "WARNING": "#c78f00",
    "REPORT": "#447e9b",
    "INFO": "#417690",
    "DEBUG": "#777",
}


def level_badge(log: DbLog) -> SafeString:
    return format_html(
        '<strong style="color: {}">{}</strong>',
        LEVEL_COLOURS.get(log.levelname, "#333"),
        log.levelname,
    )


class LogInline(admin.TabularInline):
    """A node's log records on its page: read-only, newest first."""

    model = DbLog
    fields = ["time", "level", "message", "loggername"]
    readonly_fields = fields
    ordering = ["-time", "-pk"]
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="level")
    def level(self, log: DbLog) -> SafeString:
        return level_badge(log)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DbLog)
class DbLogAdmin(admin.ModelAdmin):
    list_display = ["time", "level", "dbnode", "message"]
    list_filter = ["levelname"]
    list_select_related = ["dbnode"]
    raw_id_fields = ["dbnode"]
    ordering = ["-time", "-pk"]
    readonly_fields = ["uuid", "time", "loggername", "levelname", "dbnode", "message"]

    @admin.display(description="level", ordering="levelname")
    def level(self, log: DbLog) -> SafeString:
        return level_badge(log)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
