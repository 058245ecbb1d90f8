"""``manage.py closest_parents PK... [--type T]``."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aiidasite.exceptions import AiidaSiteError
from queries import services


class Command(BaseCommand):
    help = (
        "Print the nearest ancestor of a node type (fewest links, then newest) "
        "for each node pk; '-' when there is none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pks", nargs="+", type=int, metavar="PK")
        parser.add_argument(
            "--type",
            dest="node_type",
            help="type string or class name, e.g. StructureData (default: any)",
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            parents = services.closest_parents_get(
                pks=options["pks"],
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
