"""Admin pages for nodes, links and groups, built for tables of millions.

The node list never counts the table; deleting goes through AiiDA's
traversal rules with a page that lists everything that goes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cached_property
from typing import Any
from urllib.parse import quote

from django.contrib import admin, messages
from django.core.exceptions import EmptyResultSet, PermissionDenied
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Count, QuerySet
from django.db.models.fields.json import KeyTransform
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from aiidasite.exceptions import AiidaSiteError
from aiidasite.identifiers import MAX_PK, pk_from_text
from comments.admin import CommentInline, save_inline_comments
from logs.admin import LogInline
from nodes import services, types
from nodes.models import DbGroup, DbLink, DbNode
from queries.graph import hill_formula

# Beyond this many rows the admin shows "many" pages instead of counting on.
COUNT_LIMIT = 10_000
# A node's page shows at most this much of each text file (the rest is
# downloaded), and of at most this many files.
FILE_PREVIEW_BYTES = 64 * 1024
FILE_PREVIEWS = 20


class CappedCountPaginator(Paginator):
    """Counts at most ``COUNT_LIMIT + 1`` rows, never the whole table."""

    @cached_property
    def count(self) -> int:
        query = self.object_list
        if not isinstance(query, QuerySet):
            return len(query)
        limited = query.order_by().values("pk")[: COUNT_LIMIT + 1]
        try:
            sql, params = limited.query.sql_with_params()
        except EmptyResultSet:
            # Django compiles no SQL for a filter no row can match (an id
            # beyond the column's range, ``.none()``): nothing to count.
            return 0
        with connections[query.db].cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) capped", params)
            return cursor.fetchone()[0]


class NodeTypeFilter(admin.SimpleListFilter):
    """Known types; a parent type also lists its subtypes."""

    title = "node type"
    parameter_name = "type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        kinds = [("data.", "Data (all)"), ("process.", "Process (all)")]
        return kinds + [(t, types.class_name(t)) for t in types.KNOWN_TYPES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        from nodes.filters import subtype_query

        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(subtype_query(value))
        except AiidaSiteError:
            return queryset.none()


def pretty_json(value: Any) -> SafeString:
    return format_html(
        '<pre style="white-space: pre-wrap">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True),
    )


def node_link(node: DbNode) -> SafeString:
    return format_html(
        '<a href="{}">{}</a>',
        reverse("admin:nodes_dbnode_change", args=[node.pk]),
        str(node),
    )


def file_rows(
    node: DbNode, tree: list[dict[str, Any]], base: str, depth: int = 0
) -> Iterator[dict[str, Any]]:
    """Rows of the files table: each entry with its indent and URL-encoded
    download link, directories followed by their contents."""
    for entry in tree:
        yield {**entry, "depth": depth, "url": base + quote(entry["path"])}
        if entry["type"] == "directory":
            yield from file_rows(node, entry["children"], base, depth + 1)


def with_previews(node: DbNode, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first ``FILE_PREVIEWS`` files get the start of their text
    (``FILE_PREVIEW_BYTES``), or None when they are binary."""
    files = [row for row in rows if row["type"] == "file"]
    for row in files[:FILE_PREVIEWS]:
        row["text"] = services.node_file_preview(
            node=node, path=row["path"], limit=FILE_PREVIEW_BYTES
        )
        row["truncated"] = row["size"] > FILE_PREVIEW_BYTES
    return rows


def delete_confirmation(
    model_admin: admin.ModelAdmin, request: HttpRequest, pks: list[int]
) -> HttpResponse | None:
    """The confirmation page, or the deletion itself once confirmed."""
    # The rule checkboxes count once our own form was posted; before that
    # (the action or the delete link) every rule is on, as by default.
    submitted = "rules" in request.POST
    options = {
        name: request.POST.get(name) == "on" if submitted else True
        for name in ("create_forward", "call_calc_forward", "call_work_forward")
    }
    try:
        doomed = services.delete_nodes(pks, dry_run=True, **options)
        if "confirm" in request.POST:
            deleted = services.delete_nodes(pks, dry_run=False, **options)
            model_admin.message_user(
                request, f"Deleted {len(deleted)} nodes.", messages.SUCCESS
            )
            return HttpResponseRedirect(reverse("admin:nodes_dbnode_changelist"))
    except AiidaSiteError as exc:
        model_admin.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:nodes_dbnode_changelist"))
    shown = DbNode.objects.filter(pk__in=sorted(doomed)[:500]).order_by("pk")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Delete nodes with their provenance",
        "opts": model_admin.model._meta,
        "selected": pks,
        "nodes": shown,
        "total": len(doomed),
        "hidden": max(0, len(doomed) - 500),
        "options": options,
        "dependents": services.deletion_dependents(doomed),
    }
    return TemplateResponse(request, "admin/nodes/delete_nodes.html", context)


@admin.register(DbNode)
class DbNodeAdmin(admin.ModelAdmin):
    list_display = ["id", "short_uuid", "kind", "formula", "label", "user", "ctime"]
    list_filter = [NodeTypeFilter, "ctime", "user"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    search_fields = ["label"]
    search_help_text = "a uuid (or its start) or a label (or its start)"
    show_full_result_count = False
    # Facet counts would COUNT the table once per filter choice.
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    ordering = ["-id"]
    actions = ["delete_with_rules"]
    # Other apps' rows about the node, shown on its page.
    inlines = [CommentInline, LogInline]
    fields = [
        "uuid",
        "node_type",
        "process_type",
        "label",
        "description",
        "ctime",
        "mtime",
        "user",
        "computer",
        "attributes_pretty",
        "extras",
        "incoming_links",
        "outgoing_links",
        "files",
    ]
    readonly_fields = [
        "uuid",
        "node_type",
        "process_type",
        "ctime",
        "mtime",
        "user",
        "computer",
        "attributes_pretty",
        "incoming_links",
        "outgoing_links",
        "files",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # A structure's kinds and sites, not its whole attributes: the list's
        # formula column needs only these.
        return (
            super()
            .get_queryset(request)
            .defer("attributes", "repository_metadata")
            .annotate(
                structure_kinds=KeyTransform("kinds", "attributes"),
                structure_sites=KeyTransform("sites", "attributes"),
            )
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return self.node_search(queryset, term), False

    @staticmethod
    def node_search(queryset: QuerySet, term: str) -> QuerySet:
        """Nodes whose label starts with ``term``, whose uuid starts with it
        (four characters or more), or whose pk it is."""
        prefix = services.uuid_prefix(term)
        found = queryset.filter(label__startswith=term)
        if prefix is not None and len(prefix) >= 4:
            found = found | queryset.filter(uuid__startswith=prefix)
        if term.isdigit() and int(term) < MAX_PK:
            found = found | queryset.filter(pk=int(term))
        return found

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # The stock action would delete rows without the traversal rules.
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Nodes come from the API, commands and services, which check the rules.
        return False

    @admin.display(description="uuid")
    def short_uuid(self, node: DbNode) -> str:
        return str(node.uuid)[:8]

    @admin.display(description="formula")
    def formula(self, node: DbNode) -> str:
        if not node.is_a(types.STRUCTURE):
            return ""
        kinds, sites = node.structure_kinds, node.structure_sites
        return hill_formula({"kinds": kinds, "sites": sites}) or ""

    @admin.display(description="type", ordering="node_type")
    def kind(self, node: DbNode) -> str:
        return types.class_name(node.node_type)

    @admin.display(description="computer")
    def computer(self, node: DbNode) -> SafeString | str:
        if node.dbcomputer_id is None:
            return "none"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:computers_dbcomputer_change", args=[node.dbcomputer_id]),
            node.dbcomputer.label,
        )

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: bool
    ) -> None:
        if formset.model is CommentInline.model:
            save_inline_comments(request, formset)
        else:
            super().save_formset(request, form, formset, change)

    @admin.display(description="attributes")
    def attributes_pretty(self, node: DbNode) -> SafeString:
        return pretty_json(node.attributes)

    def _links(self, links: list[DbLink], end: str) -> SafeString:
        if not links:
            return format_html("{}", "none")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((link.type, link.label, node_link(getattr(link, end))) for link in links),
        )
        return format_html("<table>{}</table>", rows)

    @admin.display(description="incoming links")
    def incoming_links(self, node: DbNode) -> SafeString:
        return self._links(services.node_links(node=node)[0], "input")

    @admin.display(description="outgoing links")
    def outgoing_links(self, node: DbNode) -> SafeString:
        return self._links(services.node_links(node=node)[1], "output")

    @admin.display(description="files")
    def files(self, node: DbNode) -> SafeString:
        try:
            tree = services.node_file_tree(node=node)
        except AiidaSiteError as exc:
            return format_html("unreadable: {}", exc)
        if not tree:
            return format_html("{}", "none")
        base = reverse("node-files", args=[node.pk])
        entries = with_previews(node, list(file_rows(node, tree, base)))
        return render_to_string("admin/nodes/node_files.html", {"entries": entries})

    def save_model(
        self, request: HttpRequest, obj: DbNode, form: Any, change: bool
    ) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        # The form shows the extras whole: what it holds replaces them.
        services.node_update(node=obj, changes=changes, replace_extras=True)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_delete_permission(request):
            return super().delete_view(request, object_id, extra_context)
        pk = pk_from_text(object_id)
        pks = [pk] if pk is not None else []
        return delete_confirmation(self, request, pks)

    @admin.action(
        description="Delete selected nodes and what must go with them",
        permissions=["delete"],
    )
    def delete_with_rules(
        self, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        return delete_confirmation(
            self, request, list(queryset.values_list("pk", flat=True))
        )


@admin.register(DbLink)
class DbLinkAdmin(admin.ModelAdmin):
    """Links are shown, not edited: changing one would rewrite provenance."""

    list_display = ["id", "input", "type", "label", "output"]
    list_filter = ["type"]
    list_select_related = ["input", "output"]
    raw_id_fields = ["input", "output"]
    search_fields = ["=label"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    ordering = ["-id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        fields = ("id", "node_type", "label")
        return (
            super()
            .get_queryset(request)
            .only(
                "id",
                "label",
                "type",
                *(f"{end}__{f}" for end in ("input", "output") for f in fields),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DbGroup)
class DbGroupAdmin(admin.ModelAdmin):
    """Members are listed below the fields, paginated, and added or removed
    there through the services (not as a box of raw ids)."""

    list_display = ["id", "label", "type_string", "user", "time", "node_count"]
    list_filter = ["type_string"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    exclude = ["dbnodes"]
    search_fields = ["label"]
    ordering = ["label"]
    readonly_fields = ["uuid", "time"]
    members_per_page = 50
    candidates_shown = 50

    def get_urls(self) -> list[Any]:
        members = path(
            "<int:pk>/members/",
            self.admin_site.admin_view(self.members_view),
            name="nodes_dbgroup_members",
        )
        return [members, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        group = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if group is not None:
            context.update(self.members_context(request, group))
        return super().change_view(request, object_id, form_url, context)

    def members_context(self, request: HttpRequest, group: DbGroup) -> dict[str, Any]:
        members = group.dbnodes.only("id", "node_type", "label", "ctime").order_by(
            "-id"
        )
        page = Paginator(members, self.members_per_page).get_page(
            request.GET.get("members_page")
        )
        for node in page:
            node.class_name = types.class_name(node.node_type)
        term = request.GET.get("member_search", "").strip()
        candidates = []
        if term:
            found = DbNodeAdmin.node_search(DbNode.objects.all(), term)
            candidates = list(
                found.only("id", "node_type", "label").order_by("-id")[
                    : self.candidates_shown
                ]
            )
            present = set(
                group.dbnodes.filter(
                    pk__in=[node.pk for node in candidates]
                ).values_list("pk", flat=True)
            )
            for node in candidates:
                node.class_name = types.class_name(node.node_type)
                node.member = node.pk in present
        return {
            "members_page": page,
            "member_search": term,
            "candidates": candidates,
        }

    def members_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST ``action`` (add or remove) and ``node`` pks; back to the page."""
        group = self.get_object(request, str(pk))
        back = reverse("admin:nodes_dbgroup_change", args=[pk])
        if group is None or request.method != "POST":
            return HttpResponseRedirect(back)
        if not self.has_change_permission(request, group):
            raise PermissionDenied
        pks = [int(v) for v in request.POST.getlist("node") if v.isdigit()]
        action = request.POST.get("action")
        try:
            if action == "add":
                done = services.group_add_nodes(group=group, pks=pks)
                self.message_user(request, f"Added {done} nodes.", messages.SUCCESS)
            elif action == "remove":
                done = services.group_remove_nodes(group=group, pks=pks)
                self.message_user(request, f"Removed {done} nodes.", messages.SUCCESS)
        except AiidaSiteError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(back + "#group-members")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(count=Count("dbnodes"))

    @admin.display(description="nodes", ordering="count")
    def node_count(self, group: DbGroup) -> int:
        return group.count

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"user": request.user.pk}
