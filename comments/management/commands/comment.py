"""``manage.py comment add NODE TEXT|show NODE|remove ID``, as verdi has them."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from aiidasite.exceptions import AiidaSiteError, NotExistent
from comments import services
from nodes.services import node_get


class Command(BaseCommand):
    help = "Comments on nodes: 'add NODE TEXT', 'show NODE', 'remove ID'."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="comment on a node")
        add.add_argument("node", help="pk, uuid or uuid prefix")
        add.add_argument("content", metavar="TEXT")
        add.add_argument(
            "--user", help="author's username or e-mail (the first superuser if absent)"
        )
        show = actions.add_parser("show", help="a node's comments, oldest first")
        show.add_argument("node", help="pk, uuid or uuid prefix")
        show.add_argument("--format", choices=["text", "json"], default="text")
        remove = actions.add_parser("remove", help="delete a comment")
        remove.add_argument("pk", metavar="ID", help="the comment's pk")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, f"comment_{action}")(**options)
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from None

    def comment_add(
        self, *, node: str, content: str, user: str | None, **options: Any
    ) -> None:
        comment = services.comment_add(
            node=node_get(identifier=node), user=author(user), content=content
        )
        self.stdout.write(f"Comment {comment.pk} added to node {comment.dbnode_id}.")

    def comment_show(self, *, node: str, format: str, **options: Any) -> None:
        comments = [
            {
                "id": c.pk,
                "user": c.user.email or c.user.get_username(),
                "ctime": c.ctime.isoformat(),
                "mtime": c.mtime.isoformat(),
                "content": c.content,
            }
            for c in services.comments_of(node=node_get(identifier=node))
        ]
        if format == "json":
            self.stdout.write(json.dumps(comments, indent=2))
            return
        if not comments:
            self.stdout.write("No comments.")
        for c in comments:
            self.stdout.write(f"***** Comment {c['id']} by {c['user']} on {c['ctime']}")
            self.stdout.write(c["content"])

    def comment_remove(self, *, pk: str, **options: Any) -> None:
        comment = services.comment_get(pk=pk)
        services.comment_remove(comment=comment)
        self.stdout.write(f"Comment {pk} removed.")


def author(name: str | None) -> Any:
    """The user named by username or e-mail, else the first superuser.

    :raises NotExistent: if there is no such user.
    """
    users = get_user_model().objects.order_by("pk")
    if name:
        found = (
            users.filter(username=name).first()
            or users.filter(email__iexact=name).first()
        )
        if found is None:
            raise NotExistent(f"no user {name!r}")
        return found
    found = users.filter(is_superuser=True).first()
    if found is None:
        raise NotExistent("no superuser to write the comment as; pass --user")
    return found
