"""``manage.py query FILE.json``."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aiidasite.exceptions import AiidaSiteError
from queries import services


class Command(BaseCommand):
    help = (
        "Run a query written in QueryBuilder's JSON form (a file inside the "
        "working directory) and print its rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.json")
        parser.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="text: one tab-separated row per line; json: rows as "
            "{tag: {projection: value}}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            query = services.query_file_read(path=options["file"])
            rows = query.dict() if options["format"] == "json" else query.all()
        except AiidaSiteError as exc:
            raise CommandError(str(exc)) from exc
        if options["format"] == "json":
            self.stdout.write(json.dumps(rows, indent=2, default=str))
            return
        for row in rows:
            self.stdout.write("\t".join(_cell(value) for value in row))


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)
