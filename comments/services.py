"""Adding, changing, listing and removing comments on nodes; what the
commands, views and admin call.

AiiDA's ``aiida.orm.comments.Comment`` and ``Node.base.comments`` have the
same operations: a comment has an author and non-empty content, and goes
with its node.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from aiidasite.exceptions import InputValidationError, NotExistent
from aiidasite.identifiers import pk_from_text
from comments.models import DbComment
from nodes.models import DbNode
from nodes.validation import clean_text


def comments_of(*, node: DbNode) -> QuerySet[DbComment]:
    """The node's comments, oldest first, with their authors."""
    return (
        DbComment.objects.filter(dbnode=node)
        .select_related("user")
        .order_by("ctime", "pk")
    )


def comment_get(*, pk: int | str) -> DbComment:
    """:raises NotExistent: if no comment has this pk."""
    text = str(pk).strip()
    comment = None
    number = pk_from_text(text)
    if number is not None:
        comment = DbComment.objects.select_related("user").filter(pk=number).first()
    if comment is None:
        raise NotExistent(f"no comment with pk {text}")
    return comment


def _clean_content(content: object) -> str:
    text = clean_text(content, "content")
    if not text.strip():
        raise InputValidationError("a comment needs some content")
    return text


def comment_add(*, node: DbNode, user: object, content: object) -> DbComment:
    """Store a new comment by ``user`` on ``node``.

    :raises InputValidationError: if ``content`` is empty or not storable text.
    """
    return DbComment.objects.create(
        dbnode=node, user=user, content=_clean_content(content)
    )


def comment_update(*, comment: DbComment, content: object) -> DbComment:
    """Replace the content of ``comment``; its ``mtime`` becomes now.

    :raises InputValidationError: if ``content`` is empty or not storable text.
    """
    comment.content = _clean_content(content)
    comment.mtime = timezone.now()
    comment.save(update_fields=["content", "mtime"])
    return comment


def comment_remove(*, comment: DbComment) -> None:
    comment.delete()
