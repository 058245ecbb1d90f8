"""``manage.py closest_parents NODE... [--node-type T]``."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aiidasite.exceptions import AiidaSiteError
from aiidasite.identifiers import pk_from_text
from nodes.services import node_get
from queries import services


class Command(BaseCommand):
    help = (
        "Print the nearest ancestor of a node type (fewest links, then newest) "
        "for each node; '-' when there is none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "identifiers",
            nargs="+",
            metavar="NODE",
            help="pk, uuid or uuid prefix, as `node show` takes",
        )
        parser.add_argument(
            "--node-type",
            help="type string or class name, e.g. StructureData (default: any)",
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            parents = services.closest_parents_get(
                pks=[node_pk(text) for text in options["identifiers"]],
                node_type=options["node_type"],
                print_progress=options["verbosity"] > 0 and sys.stderr.isatty(),
            )
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from exc
        if options["format"] == "json":
            rows = [{"pk": pk, "parent": parent} for pk, parent in parents.items()]
            self.stdout.write(json.dumps(rows, indent=2))
            return
        for pk, parent in parents.items():
            self.stdout.write(f"{pk}\t{parent if parent is not None else '-'}")


def node_pk(identifier: str) -> int:
    """The pk a NODE argument names: digits are the pk itself (checked with the
    others in one query), anything else is looked up as a uuid or prefix.

    :raises NotExistent: no node has that uuid or prefix.
    """
    pk = pk_from_text(identifier)
    if pk is not None:
        return pk
    return node_get(identifier=identifier).pk
