"""``manage.py group list|show|create|add|remove|delete|relabel``, as
``verdi group`` has them. Groups are named by pk, uuid or label."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from aiidasite.exceptions import AiidaSiteError, NotExistent
from nodes import services, types
from nodes.models import DbGroup


def owner(username: str | None) -> Any:
    """The named user, or else the first superuser (the site's admin).

    :raises NotExistent: no such user, or no superuser to default to.
    """
    users = get_user_model().objects
    if username is not None:
        user = users.filter(username=username).first()
        if user is None:
            raise NotExistent(f"no user {username!r}")
        return user
    user = users.filter(is_superuser=True).order_by("pk").first()
    if user is None:
        raise NotExistent("no superuser to own the group; pass --user")
    return user


class Command(BaseCommand):
    help = (
        "Groups of nodes: list, show G, create LABEL, add G IDS, remove G IDS, "
        "delete G, relabel G LABEL. G is a pk, uuid or label."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="groups with their node counts")
        listing.add_argument(
            "-T", "--type-string", default="core", help="only this type (core)"
        )
        listing.add_argument(
            "-a", "--all-types", action="store_true", help="groups of every type"
        )
        listing.add_argument("-u", "--user", help="only this user's groups")
        listing.add_argument("--format", choices=["text", "json"], default="text")
        show = actions.add_parser("show", help="a group and its nodes")
        show.add_argument("group")
        show.add_argument("-l", "--limit", type=int, help="show at most N nodes")
        show.add_argument("--format", choices=["text", "json"], default="text")
        create = actions.add_parser("create", help="a new empty group")
        create.add_argument("label")
        create.add_argument("--description", default="")
        create.add_argument("--user", help="owner (default: the first superuser)")
        for name, what in (("add", "add nodes to"), ("remove", "remove nodes from")):
            change = actions.add_parser(name, help=f"{what} a group")
            change.add_argument("group")
            change.add_argument("nodes", nargs="+", metavar="ID")
        delete = actions.add_parser("delete", help="delete a group (its nodes stay)")
        delete.add_argument("group")
        delete.add_argument(
            "--dry-run", action="store_true", help="only say what would go"
        )
        relabel = actions.add_parser("relabel", help="give a group a new label")
        relabel.add_argument("group")
        relabel.add_argument("label")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, f"group_{action}")(**options)
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from None

    def group_list(
        self,
        *,
        type_string: str,
        all_types: bool,
        user: str | None,
        format: str,
        **options: Any,
    ) -> None:
        groups = DbGroup.objects.select_related("user").annotate(count=Count("dbnodes"))
        if not all_types:
            groups = groups.filter(type_string=type_string)
        if user is not None:
            groups = groups.filter(user=owner(user))
        rows = [
            {
                "pk": group.pk,
                "label": group.label,
                "type_string": group.type_string,
                "user": group.user.get_username(),
                "node_count": group.count,
            }
            for group in groups.order_by("pk")
        ]
        if format == "json":
            self.stdout.write(json.dumps(rows, indent=2))
            return
        self.stdout.write(
            f"{'PK':>6}  {'Label':<30} {'Type string':<14} {'User':<12} Node count"
        )
        for row in rows:
            self.stdout.write(
                f"{row['pk']:>6}  {row['label']:<30} {row['type_string']:<14} "
                f"{row['user']:<12} {row['node_count']}"
            )

    def group_show(
        self, *, group: str, limit: int | None, format: str, **options: Any
    ) -> None:
        found = services.group_get(identifier=group)
        members = found.dbnodes.order_by("pk").values_list("pk", "node_type", "label")
        if limit is not None:
            members = members[:limit]
        data = {
            "pk": found.pk,
            "uuid": str(found.uuid),
            "label": found.label,
            "type_string": found.type_string,
            "description": found.description,
            "user": found.user.get_username(),
            "node_count": found.dbnodes.count(),
            "nodes": [
                {"pk": pk, "type": types.class_name(node_type), "label": label}
                for pk, node_type, label in members
            ],
        }
        if format == "json":
            self.stdout.write(json.dumps(data, indent=2))
            return
        for key in ("label", "type_string", "description", "user", "uuid", "pk"):
            self.stdout.write(f"{key.replace('_', ' ').capitalize():<13} {data[key]}")
        self.stdout.write(f"\n{'PK':>8}  {'Type':<20} Label")
        for node in data["nodes"]:
            self.stdout.write(f"{node['pk']:>8}  {node['type']:<20} {node['label']}")

    def group_create(
        self, *, label: str, description: str, user: str | None, **options: Any
    ) -> None:
        group = services.group_create(
            user=owner(user), label=label, description=description
        )
        self.stdout.write(f"Created group {group.label!r} (pk {group.pk})")

    def _node_pks(self, identifiers: list[str]) -> list[int]:
        return [services.node_get(identifier=item).pk for item in identifiers]

    def group_add(self, *, group: str, nodes: list[str], **options: Any) -> None:
        found = services.group_get(identifier=group)
        added = services.group_add_nodes(group=found, pks=self._node_pks(nodes))
        self.stdout.write(f"Added {added} nodes to group {found.label!r}")

    def group_remove(self, *, group: str, nodes: list[str], **options: Any) -> None:
        found = services.group_get(identifier=group)
        removed = services.group_remove_nodes(group=found, pks=self._node_pks(nodes))
        self.stdout.write(f"Removed {removed} nodes from group {found.label!r}")

    def group_delete(self, *, group: str, dry_run: bool, **options: Any) -> None:
        found = services.group_get(identifier=group)
        label = found.label
        if dry_run:
            count = found.dbnodes.count()
            self.stdout.write(f"Would delete group {label!r} ({count} members)")
            return
        services.group_delete(group=found)
        self.stdout.write(f"Deleted group {label!r}; its nodes stay")

    def group_relabel(self, *, group: str, label: str, **options: Any) -> None:
        found = services.group_get(identifier=group)
        old = found.label
        services.group_update(group=found, changes={"label": label})
        self.stdout.write(f"Relabelled group {old!r} to {label!r}")
