"""Comments in the admin: on their node's page, and in a list of their own."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from comments import services
from comments.models import DbComment


class CommentInline(admin.TabularInline):
    """A node's comments on its page: add, edit and delete; author shown."""

    model = DbComment
    fields = ["content", "user", "ctime", "mtime"]
    readonly_fields = ["user", "ctime", "mtime"]
    extra = 1
    ordering = ["ctime", "pk"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("user")


@admin.register(DbComment)
class DbCommentAdmin(admin.ModelAdmin):
    list_display = ["id", "dbnode", "user", "ctime", "short_content"]
    list_select_related = ["user", "dbnode"]
    raw_id_fields = ["dbnode"]
    fields = ["dbnode", "content", "user", "ctime", "mtime"]
    readonly_fields = ["user", "ctime", "mtime"]
    ordering = ["-id"]

    @admin.display(description="content")
    def short_content(self, comment: DbComment) -> str:
        return comment.content[:80]

    def save_model(self, request: HttpRequest, obj: DbComment, form, change) -> None:
        if change:
            services.comment_update(comment=obj, content=obj.content)
        else:
            obj.user = request.user
            obj.save()


def save_inline_comments(request: HttpRequest, formset: Any) -> None:
    """Store a node page's comment forms: new ones are the editor's."""
    for comment in formset.save(commit=False):
        if comment.pk is None:
            comment.user = request.user
            comment.save()
        else:
            services.comment_update(comment=comment, content=comment.content)
    for comment in formset.deleted_objects:
        services.comment_remove(comment=comment)
